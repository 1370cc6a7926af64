"""Wall-clock time of a command's named stages, for the manifest and benchmarks/run_speed.py."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class StageTimer:
    """Accumulates the seconds spent in each named stage, in the order stages first ran.

    ``announce(name, seconds)``, when given, is called as each stage ends (a command's
    progress lines on stderr); not on an exception, so an error stays the last line.
    """

    def __init__(self, announce: Callable[[str, float], None] | None = None) -> None:
        self.seconds: dict[str, float] = {}
        self.announce = announce

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            spent = time.perf_counter() - started
            self.seconds[name] = self.seconds.get(name, 0.0) + spent
        if self.announce is not None:
            self.announce(name, spent)

    def record(self) -> dict[str, float]:
        """Seconds by stage, rounded to the millisecond (for the manifest)."""
        return {name: round(value, 3) for name, value in self.seconds.items()}
