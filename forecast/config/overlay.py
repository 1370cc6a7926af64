"""Scenario overlays: a nested mapping or dotted keys applied on the baseline config, each
path checked against the model (unknown keys name the nearest valid one)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from pydantic import (
    BaseModel,
    ValidationError,
)

from forecast.config.base import _dotted, _model_of, _Problem, _show, _suggest
from forecast.config.messages import _first_error
from forecast.config.model import Config
from forecast.errors import ConfigError


def _flatten_overlay(overlay: Mapping, model: type[BaseModel] = Config,
                     prefix: tuple = (), key_prefix: tuple = ()) -> list[tuple[tuple, Any, tuple]]:
    """Overlay → [(config path, value, overlay key path)], checking each path against the
    models. A mapping under a section descends into it (so only the named leaves change); a
    mapping under a value (e.g. a tfr path) replaces the value."""
    leaves: list[tuple[tuple, Any, tuple]] = []
    for key, value in overlay.items():
        key_path = (*key_prefix, key)
        parts = str(key).split(".")
        current: type[BaseModel] | None = model
        path = prefix
        for depth, part in enumerate(parts):
            if current is None:
                raise _Problem((*path, part), f"{_dotted(path)} is a value, not a section "
                               "(set it whole)", key_path)
            fields = current.model_fields
            if part not in fields or (current is Config and part in ("scenarios", "name")):
                valid = [f for f in fields if not (current is Config and f in ("scenarios",
                                                                               "name"))]
                raise _Problem((*path, part), f"unknown key{_suggest(part, valid)}", key_path)
            path = (*path, part)
            current = _model_of(fields[part].annotation)
            if depth == len(parts) - 1 and isinstance(value, Mapping) and current is not None:
                leaves.extend(_flatten_overlay(value, current, path, key_path))
                break
        else:
            leaves.append((path, value, key_path))
    return leaves


def _set_path(tree: dict, path: tuple, value: Any) -> None:
    node = tree
    for part in path[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[path[-1]] = copy.deepcopy(value)


def _apply(config_dict: Mapping, overlay: Mapping | None) -> Config:
    """Apply ``overlay``; raises _Problem (path relative to the config) on any error."""
    if overlay is not None and not isinstance(overlay, Mapping):
        raise _Problem((), f"a scenario overlay must be a mapping of keys to values, got "
                       f"{_show(overlay)}")
    leaves = _flatten_overlay(overlay or {})
    tree = copy.deepcopy(dict(config_dict))
    tree.pop("scenarios", None)
    for path, value, _key in leaves:
        _set_path(tree, path, value)
    try:
        return Config.model_validate(tree)
    except ValidationError as exc:
        path, message = _first_error(exc, order=None)
        blamed = [key for leaf, _v, key in leaves if path[:len(leaf)] == leaf]
        raise _Problem(path, message, blamed[0] if blamed else None) from None


def apply_overlay(config_dict: Mapping, overlay: Mapping | None) -> Config:
    """The config ``config_dict`` (a plain mapping, e.g. ``Config.model_dump()``) with
    ``overlay`` applied: nested mappings or dotted keys; only the named values change.
    Unknown paths raise ConfigError naming the path and the nearest valid key."""
    try:
        return _apply(config_dict, overlay)
    except _Problem as problem:
        raise ConfigError(f"scenario overlay: {_dotted(problem.path)}: {problem.message}"
                          if problem.path else f"scenario overlay: {problem.message}") from None
