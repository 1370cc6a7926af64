"""A small on-disk cache for results that never change between runs.

Three things a run computes are the same every time for the same inputs and library versions:
the default inputs of its unit (forecast.defaults.consistency.defaults_for), the trend fits of the
national TFR/e0 series (statsmodels, prophet) and the report's font subset. They cost several
seconds each, so they are kept in a cache directory:
``$FORECAST_CACHE_DIR``, else ``$XDG_CACHE_HOME/forecast``, else ``~/.cache/forecast``.

A cache entry's name is the SHA-256 of everything its value depends on (the caller passes the
inputs, the library versions and this module's format version), so a changed input can never
read a stale value. Entries are written atomically; a cache that cannot be read or written is
skipped silently (the value is then computed, as without a cache). ``FORECAST_CACHE_DIR=off``
turns the cache off.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

FORMAT_VERSION = "1"


def cache_directory() -> Path | None:
    """Where entries live, or None when caching is off."""
    configured = os.environ.get("FORECAST_CACHE_DIR")
    if configured:
        return None if configured.lower() == "off" else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "forecast"


def cache_key(*parts: object) -> str:
    """The SHA-256 of ``parts`` (JSON-serialised; bytes hashed as they are)."""
    digest = hashlib.sha256(FORMAT_VERSION.encode())
    for part in parts:
        if isinstance(part, bytes):
            digest.update(b"b" + part)
        else:
            digest.update(b"j" + json.dumps(part, sort_keys=True, default=str).encode())
        digest.update(b"\x00")
    return digest.hexdigest()


def code_fingerprint(*modules: object) -> str:
    """The SHA-256 of the source files of ``modules``: part of a key whose value a module's
    code computes, so an entry written by other code (another branch, an older version on the
    same machine) is never read back as this code's result."""
    digest = hashlib.sha256()
    for module in modules:
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _write(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError:
        pass  # a read-only or full cache is no error: the value was computed anyway


def cached_bytes(namespace: str, key: str, compute: Callable[[], bytes]) -> bytes:
    """``compute()``, or the bytes stored under ``namespace/key`` by an earlier call."""
    directory = cache_directory()
    if directory is None:
        return compute()
    path = directory / namespace / key
    stored = _read(path)
    if stored is not None:
        return stored
    value = compute()
    _write(path, value)
    return value


def cache_replace(namespace: str, key: str, value: bytes) -> None:
    """Store ``value`` under ``namespace/key`` in place of a damaged entry (no-op when off)."""
    directory = cache_directory()
    if directory is not None:
        _write(directory / namespace / key, value)


def cached_json(namespace: str, key: str, compute: Callable[[], object]) -> object:
    """``compute()`` (a JSON-serialisable value), or the value stored under ``namespace/key``
    by an earlier call. Both paths return the value as read back from JSON (key order kept,
    floats exact), so a run with a warm cache writes the same bytes as one without."""
    def as_bytes() -> bytes:
        return json.dumps(compute(), ensure_ascii=False).encode("utf-8")

    stored = cached_bytes(namespace, key + ".json", as_bytes)
    try:
        return json.loads(stored)
    except ValueError:  # a damaged entry: compute afresh and replace it
        fresh = as_bytes()
        directory = cache_directory()
        if directory is not None:
            _write(directory / namespace / (key + ".json"), fresh)
        return json.loads(fresh)
