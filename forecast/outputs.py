"""Writing results atomically: everything goes to a temporary sibling directory that replaces
the target only when complete, so a failed run leaves earlier outputs untouched."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import ForecastError


class OutputError(ForecastError):
    """An output directory that cannot be written."""


@contextlib.contextmanager
def atomic_directory(target: str | Path) -> Iterator[Path]:
    """Yield a temporary directory; on success it replaces ``target``, on failure it vanishes."""
    target = Path(target).resolve()
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=parent))
    except OSError as exc:
        raise OutputError(f"cannot create the output directory ({exc.strerror})", path=target,
                          fix="choose a writable location with --out") from None
    if target.exists() and not target.is_dir():
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError("exists and is not a directory", path=target,
                          fix="choose another --out path")
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = None
    try:
        if target.exists():
            old = parent / f".{target.name}.old-{os.getpid()}"
            os.replace(target, old)
        os.replace(staging, target)
    except OSError as exc:
        if old is not None and not target.exists():
            os.replace(old, target)
            old = None
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"cannot replace the output directory ({exc.strerror})", path=target,
                          fix="check permissions or choose another --out") from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
