"""The pieces every config model and message shares: the strict base model (unknown keys
and YAML booleans refused), value kinds and ceilings, and the text helpers of messages."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    model_validator,
)
from pydantic_core import PydanticCustomError

BASELINE = "baseline"


TargetKind = Literal[
    "count", "per_1000_elderly", "per_1000_population", "share_nursing", "coverage_under3"
]


Relation = Literal["at_least", "equal", "about", "at_most"]


Indicator = Literal[
    "pop_total", "pop_60plus", "pop_65plus", "pop_80plus", "pop_under3", "births",
    "births_cumulative",
]


SHARE_KINDS = ("share_nursing", "coverage_under3")


#: Plausible ceilings: more beds or places than China has people in care ten times over, and
#: more persons than China has (1.41 billion), are typing mistakes.
MAX_PLACES = 100_000_000


MAX_PERSONS = 2_000_000_000


def _rule_error(message: str, path: str = "") -> PydanticCustomError:
    """A validation error whose ``ctx['path']`` (dotted, relative to the failing model)
    points at the key to blame, so that the YAML line of that key can be reported."""
    return PydanticCustomError("config_rule", "{detail}", {"detail": message, "path": path})


def _takes_numbers_not_booleans(annotation: Any) -> bool:
    """True when a field's annotation accepts int or float but not bool."""
    members = set(typing.get_args(annotation)) if typing.get_origin(annotation) in (
        typing.Union, types.UnionType) else {annotation}
    return bool(members & {int, float}) and bool not in members


def _is_boolean(value: object) -> bool:
    return isinstance(value, bool) or (isinstance(value, dict)
                                       and any(isinstance(v, bool) for v in value.values()))


class StrictModel(BaseModel):
    """Base of every config model: unknown keys are errors; numbers are finite, and a YAML
    boolean (yes/no/on/off/true/false) is never read as the number 1 or 0."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _booleans_are_not_numbers(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, value in data.items():
                field = cls.model_fields.get(name) if isinstance(name, str) else None
                if field is not None and _is_boolean(value) \
                        and _takes_numbers_not_booleans(field.annotation):
                    raise _rule_error(f"expected a number, got {_show(value)} (YAML reads yes, "
                                      "no, on, off, true and false as booleans)", name)
        return data


class _Problem(Exception):
    """A config problem located by a key path (before it is given a file and line)."""

    def __init__(self, path: tuple, message: str, overlay_key: tuple | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.message = message
        self.overlay_key = overlay_key


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The config model inside an annotation (X, X | None), or None for a value."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for member in typing.get_args(annotation):
            found = _model_of(member)
            if found is not None:
                return found
    return None


def _suggest(word: str, choices: typing.Iterable[str]) -> str:
    choices = [str(c) for c in choices]
    close = difflib.get_close_matches(str(word), choices, n=1, cutoff=0.6)
    if close:
        return f" (did you mean '{close[0]}'?)"
    return f" (valid keys: {', '.join(choices)})" if choices else ""


def _dotted(path: typing.Iterable) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
