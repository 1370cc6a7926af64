"""Pydantic's validation errors turned into one line naming the dotted key and the fix."""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping

from pydantic import (
    BaseModel,
    ValidationError,
)

from forecast.config.base import _model_of, _show, _suggest
from forecast.config.model import Config

_EXPECTED = {
    "int_type": "a whole number", "int_parsing": "a whole number",
    "int_from_float": "a whole number", "float_type": "a number", "float_parsing": "a number",
    "string_type": "text", "bool_type": "true or false", "bool_parsing": "true or false",
    "dict_type": "a mapping (key: value lines)", "model_type": "a mapping (key: value lines)",
    "model_attributes_type": "a mapping (key: value lines)", "list_type": "a list (- items)",
    "date_type": "a date YYYY-MM-DD", "date_parsing": "a date YYYY-MM-DD",
    "date_from_datetime_parsing": "a date YYYY-MM-DD",
    "date_from_datetime_inexact": "a date YYYY-MM-DD",
}


_UNION_TAG = re.compile(r"[\[\](),]|^(float|int|str|bool|date|dict|list|none)$")


def _clean_loc(error: Mapping) -> tuple:
    """The error's location as config keys: union-member tags dropped, and the blamed key of a
    config rule (ctx['path']) appended."""
    loc = [part for part in error["loc"]
           if not (isinstance(part, str) and _UNION_TAG.search(part))]
    extra = (error.get("ctx") or {}).get("path") if error["type"] == "config_rule" else None
    if extra:
        loc += [int(p) if p.isdigit() else p for p in str(extra).split(".")]
    return tuple(loc)


def _describe(group: list[Mapping], path: tuple) -> str:
    error = group[0]
    kind = error["type"]
    if kind == "extra_forbidden":
        parent = _model_at(path[:-1])
        valid = list(parent.model_fields) if parent is not None else []
        if parent is Config:
            valid = [f for f in valid if f != "name"]
        return f"unknown key{_suggest(str(path[-1]), valid)}"
    if kind == "missing":
        return "required key is missing"
    if kind == "config_rule":
        return str(error["ctx"]["detail"])
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    if kind == "literal_error":
        return f"expected one of {error['ctx']['expected']}, got {_show(error['input'])}"
    if kind == "string_pattern_mismatch":
        return f"expected text matching {error['ctx']['pattern']}, got {_show(error['input'])}"
    expected = [_EXPECTED[e["type"]] for e in group if e["type"] in _EXPECTED]
    if expected:
        unique = list(dict.fromkeys(expected))
        return f"expected {' or '.join(unique)}, got {_show(error['input'])}"
    return f"{error['msg']}, got {_show(error['input'])}"


def _first_error(exc: ValidationError, order: typing.Callable[[tuple], int] | None
                 ) -> tuple[tuple, str]:
    """The first problem of a validation error (by ``order``, e.g. YAML line), described in one
    clause, followed by every other problem (path, line where known, clause)."""
    errors = exc.errors()
    paths = [_clean_loc(e) for e in errors]
    # a union alternative that failed at a shallower depth is noise beside the deeper one
    keep = [i for i, p in enumerate(paths)
            if not any(len(q) > len(p) and q[:len(p)] == p for q in paths)]
    groups: dict[tuple, list[Mapping]] = {}
    for i in keep:
        groups.setdefault(paths[i], []).append(errors[i])
    ordered = list(groups)
    if order is not None:
        # by YAML line; on one line an unknown key (a typo) explains a missing one
        ordered.sort(key=lambda p: (order(p), groups[p][0]["type"] != "extra_forbidden"))
    path = ordered[0]
    message = _describe(groups[path], path)
    if len(ordered) > 1:  # every other problem too, on the same line
        others = []
        for other in ordered[1:]:
            where = ".".join(str(part) for part in other)
            line = order(other) if order is not None else None
            where = f"line {line}: {where}" if isinstance(line, int) and line < 10**9 else where
            others.append(f"{where}: {_describe(groups[other], other)}")
        message += "; also " + "; ".join(others)
    return path, message


def _model_at(path: tuple) -> type[BaseModel] | None:
    model: type[BaseModel] | None = Config
    for part in path:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        annotation = field.annotation
        if typing.get_origin(annotation) is list:
            annotation = typing.get_args(annotation)[0]
        model = _model_of(annotation)
    return model
