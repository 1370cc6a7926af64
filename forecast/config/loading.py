"""Reading a config file: bounded YAML with line numbers, duplicate keys refused, the first
problem on one line with its file and line; the JSON Schema and the config's hash."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    ValidationError,
)

from forecast.config.base import _dotted, _Problem
from forecast.config.messages import _first_error
from forecast.config.model import Config
from forecast.config.overlay import _apply
from forecast.errors import ConfigError


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError("no such config file", path=path,
                          fix="check the path, e.g. configs/honghe.yaml") from None
    except OSError as exc:
        raise ConfigError(f"cannot read the config file ({exc.strerror})", path=path) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        try:
            raw.decode("gbk")
            found = "it looks GBK-encoded"
        except UnicodeDecodeError:
            found = "it is not text in a known encoding"
        raise ConfigError(f"line {line}: the file is not UTF-8 ({found})", path=path,
                          fix="save it as UTF-8, e.g. iconv -f GBK -t UTF-8") from None


def _compose(text: str, path: Path) -> tuple[yaml.Node | None, Any]:
    from forecast.safeyaml import YAMLProblem, key_at_line, load_yaml

    try:
        node, data = load_yaml(text)
    except YAMLProblem as problem:
        key = _dotted(key_at_line(problem.root, problem.line)) if problem.line else ""
        where = (f"line {problem.line}: " if problem.line else "") + (f"{key}: " if key else "")
        raise ConfigError(f"{where}{problem.message}", path=path, fix=problem.fix) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and "simple key" in (exc.context or ""):
            mark = exc.context_mark  # the key missing its ':' (PyYAML notices a line later)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(f"{where}: YAML syntax error: {problem}",
                          fix="check indentation, colons and quotes on that line") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"YAML error: {exc}", path=path) from None
    _check_duplicate_keys(node, path)
    return node, data


def _check_duplicate_keys(node: yaml.Node | None, path: Path, trail: tuple = ()) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else str(key)
            if name in seen:
                raise ConfigError(f"line {key.start_mark.line + 1}: "
                                  f"{_dotted((*trail, name))}: duplicate key (first on line "
                                  f"{seen[name]})", path=path, fix="keep one of them")
            seen[name] = key.start_mark.line + 1
            _check_duplicate_keys(value, path, (*trail, name))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _check_duplicate_keys(item, path, (*trail, index))


def _line_of(root: yaml.Node | None, path: tuple) -> int:
    """1-based line of the deepest node of ``path`` found in the YAML (key line for mapping
    entries)."""
    node, line = root, (root.start_mark.line + 1 if root is not None else 1)
    for part in path:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    node, line = value, key.start_mark.line + 1
                    break
            else:
                break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) \
                and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def load_config(path: str | Path) -> Config:
    """Read and validate a run configuration (UTF-8 YAML). ``Config.name`` is the file stem.
    Raises ConfigError with one line naming file, line, key and fix."""
    path = Path(path)
    text = _read_text(path)
    root, data = _compose(text, path)
    if data is None:
        raise ConfigError("the config file is empty", path=path,
                          fix="start from configs/honghe.yaml")
    if not isinstance(data, dict):
        raise ConfigError("line 1: the config must be a mapping of sections (jurisdiction:, "
                          "source_document:, ...)", path=path)
    if "name" in data:
        raise ConfigError(f"line {_line_of(root, ('name',))}: name: unknown key (the run name "
                          f"is the file name, here '{path.stem}')", path=path,
                          fix="remove the key or rename the file")

    def where(key_path: tuple) -> str:
        return f"{path}: line {_line_of(root, key_path)}"

    try:
        config = Config.model_validate({**data, "name": path.stem})
    except ValidationError as exc:
        bad, message = _first_error(exc, order=lambda p: _line_of(root, p))
        raise ConfigError(f"{where(bad)}: {_dotted(bad)}: {message}") from None
    base = config.model_dump(exclude={"scenarios"})
    for name, overlay in (data.get("scenarios") or {}).items():
        try:
            _apply(base, overlay)
        except _Problem as problem:
            anchor = ("scenarios", name, *(problem.overlay_key or ()))
            target = _dotted(problem.path) if problem.path else "overlay"
            raise ConfigError(f"{where(anchor)}: scenario '{name}': {target}: "
                              f"{problem.message}") from None
    config._source_path = path
    config._yaml_root = root
    return config


def config_schema() -> dict:
    """JSON Schema of the config file (for `forecast schema`)."""
    schema = Config.model_json_schema()
    schema["properties"].pop("name", None)
    schema["title"] = "forecast run configuration"
    return schema


def config_hash(config: Config) -> str:
    """sha256 (hex) of the config's canonical JSON (sorted keys, no whitespace). The file name
    is not part of it: two files with the same content hash the same."""
    canonical = json.dumps(config.model_dump(mode="json", exclude={"name"}), sort_keys=True,
                           ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
