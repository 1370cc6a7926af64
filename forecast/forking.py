"""Independent pieces of a run computed half here and half in a forked process.

A run's scenarios (deterministic and probabilistic) are independent of one another, and the
machine usually has a second core; :func:`split_map` runs every second item in a forked child
that sends its results back pickled. A pickled table or array is the same table or array, so
the results are those of computing every item here. The child is forked only from a
single-threaded process (forking while another thread holds a lock can leave the child waiting
on it forever, as for the chart workers of :mod:`forecast.presentation.outputs`); if the child
fails in any way its items are computed here, so an error is raised here as without it.
``FORECAST_RUN_WORKERS=1`` turns the split off.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

#: Fewest items worth a second process (forking and sending the tables back cost ~0.1 s).
MIN_ITEMS_TO_SPLIT = 4


def can_split(n_items: int, min_items: int = MIN_ITEMS_TO_SPLIT) -> bool:
    """True when :func:`split_map` would fork for ``n_items`` items."""
    if n_items < min_items or not hasattr(os, "fork"):
        return False
    if os.environ.get("FORECAST_RUN_WORKERS", "") == "1":
        return False
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return cores > 1 and threading.active_count() == 1


class Split:
    """:func:`split_map` in two halves: the child is forked when the split is made (so the
    caller can fork it before starting threads of its own, such as a process pool), this
    process's items are computed by :meth:`finish`."""

    def __init__(self, function: Callable[[Item], Result], items: Sequence[Item], *,
                 min_items: int = MIN_ITEMS_TO_SPLIT) -> None:
        self.function, self.items = function, list(items)
        self.split = can_split(len(self.items), min_items)
        self.child = _fork(function, self.items[1::2]) if self.split else None

    def finish(self) -> list[Result]:
        """``[function(item) for item in items]``."""
        function, items = self.function, self.items
        if not self.split:
            return [function(item) for item in items]
        theirs = items[1::2]
        try:
            mine = [function(item) for item in items[0::2]]
        except BaseException:
            self.cancel()
            raise
        child, self.child = self.child, None
        received = _receive(*child) if child is not None else None
        if received is None or len(received) != len(theirs):
            received = [function(item) for item in theirs]
        results: list = [None] * len(items)
        results[0::2] = mine
        results[1::2] = received
        return results

    def cancel(self) -> None:
        """End the child (its results are no longer wanted)."""
        if self.child is not None:
            child, self.child = self.child, None
            _end(*child)


def split_map(function: Callable[[Item], Result], items: Sequence[Item], *,
              min_items: int = MIN_ITEMS_TO_SPLIT) -> list[Result]:
    """``[function(item) for item in items]``, every second item computed in a forked child
    when :func:`can_split` (``function`` need not pickle; its results must)."""
    return Split(function, items, min_items=min_items).finish()


def _fork(function: Callable, items: list) -> tuple[int, int] | None:
    """Fork a child that writes ``[function(item) for item in items]``, pickled, to a pipe;
    (pid, read end), or None when the fork fails."""
    read_end, write_end = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if pid == 0:  # the child: never returns into the caller's code
        status = 1
        try:
            os.close(read_end)
            data = pickle.dumps([function(item) for item in items],
                                protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(data)
            status = 0
        except BaseException:  # noqa: BLE001 - the parent computes these items again
            pass
        finally:
            os._exit(status)
    os.close(write_end)
    return pid, read_end


def _end(pid: int, read_end: int) -> None:
    """End a child whose results are no longer wanted (this process is raising)."""
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
    os.close(read_end)
    os.waitpid(pid, 0)


def _receive(pid: int, read_end: int) -> list | None:
    """The child's results, or None if it failed (the caller then computes its items)."""
    try:
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
    finally:
        _, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        return None
    try:
        return pickle.loads(data)
    except Exception:  # noqa: BLE001 - a truncated stream: compute them here
        return None
