"""The explorer's report export, run as its own process: ``python -m forecast.explore.export``
reads ``{"config": PATH, "name": NAME, "overlay": {...}, "out": DIR, "lang": "zh"}`` (JSON)
on stdin and writes what `forecast run CONFIG --scenario NAME --out DIR` writes for the config
holding that scenario, by the same steps as that command.

A fresh process, not the server's: `forecast run` draws charts in forked processes, and
forking the multi-threaded server could leave a child waiting on a lock another thread held.
Bad input ends with the config's one-line message on stderr and exit status 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from forecast.errors import ForecastError


def export(request: dict) -> Path:
    """Write the run of scenario ``request['name']`` into ``request['out']``; returns it."""
    from forecast.config import load_config
    from forecast.pipeline.run import run
    from forecast.presentation.outputs import atomic_directory, record_stage_seconds, write_run
    from forecast.timing import StageTimer

    from .session import with_scenario

    timer = StageTimer()
    with timer.stage("config"):
        config = with_scenario(load_config(request["config"]), request["name"],
                               request.get("overlay") or {})
    with timer.stage("projection_and_demand"):
        result = run(config, [request["name"]])
    out = Path(request["out"])
    lang = request.get("lang", "zh")
    with atomic_directory(out) as staging:
        write_run(result, staging, lang, timer, report=True)
        record_stage_seconds(staging, timer)
    return out


def main() -> int:
    try:
        request = json.loads(sys.stdin.read())
        print(export(request))
    except ForecastError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover - run as a process by forecast.explore.app
    sys.exit(main())
