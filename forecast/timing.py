"""Wall-clock time of a command's named stages, for the manifest and benchmarks/run_speed.py."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class StageTimer:
    """Accumulates the seconds spent in each named stage, in the order stages first ran."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

    def record(self) -> dict[str, float]:
        """Seconds by stage, rounded to the millisecond (for the manifest)."""
        return {name: round(value, 3) for name, value in self.seconds.items()}
