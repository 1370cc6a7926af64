"""The explorer's web app (Starlette, served by uvicorn on 127.0.0.1 only).

Routes: ``/`` the page; ``/static/*`` its script and style (package data); ``/font.woff2``
the charts' CJK font cut to the page's characters; ``POST /api/view`` control values → page
fragments, the scenario overlay and its YAML; ``POST /api/report`` the same view written as a
complete `forecast run` output directory with its report.html; ``/reports/NAME/report.html``
that report. Nothing is fetched from outside the machine.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from forecast.errors import ForecastError
from forecast.presentation import report
from forecast.presentation.charts import LABELS

from . import render
from .session import DEFAULT_NAME, Session

STATIC = Path(__file__).parent / "static"
FONT_FAMILY = "ForecastExploreCJK"
EXPORT_SECONDS = 600  # bound on one report export (a whole `forecast run` of one scenario)


class Explorer:
    """The app's state: one session, where reports are exported, the font subset."""

    def __init__(self, session: Session, export_dir: Path) -> None:
        self.session = session
        self.export_dir = Path(export_dir)
        self.reports: dict[str, Path] = {}
        self._font: bytes | None = None
        self._font_lock = threading.Lock()

    # ------------------------------------------------------------------ static parts
    def spec(self, lang: str = "zh") -> dict:
        config = self.session.config
        return {"lang": lang, "name": DEFAULT_NAME, "texts": render.UI_TEXT,
                "controls": [c.as_json() for c in self.session.controls],
                "config": {"name": config.name, "path": str(config._source_path or ""),
                           "jurisdiction": config.jurisdiction.name,
                           "jurisdiction_en": config.jurisdiction.name_en,
                           "document": (config.source_document.title
                                        if config.source_document else "")},
                "years": {"base": config.projection.base_year,
                          "end": config.projection.end_year},
                "font": FONT_FAMILY}

    def page(self, lang: str = "zh") -> str:
        template = (STATIC / "index.html").read_text(encoding="utf-8")
        spec = json.dumps(self.spec(lang), ensure_ascii=False).replace("</", "<\\/")
        config = self.session.config
        title = render.UI_TEXT[lang]["title"].format(
            name=config.jurisdiction.name if lang == "zh" else config.jurisdiction.name_en)
        return (template.replace("{{TITLE}}", report.esc(title))
                .replace("{{LANG}}", "zh-CN" if lang == "zh" else "en")
                .replace("{{SPEC}}", spec))

    @property
    def font(self) -> bytes:
        """The CJK font cut to every character the page can show (texts in both languages,
        the report's sentences, chart labels, the config's names); made once."""
        with self._font_lock:
            if self._font is None:
                self._font = self._cut_font()
            return self._font

    def _cut_font(self) -> bytes:
        config = self.session.config
        pieces = [json.dumps(render.UI_TEXT, ensure_ascii=False),
                  json.dumps(report.TEXT, ensure_ascii=False),
                  json.dumps(LABELS, ensure_ascii=False),
                  config.jurisdiction.name, config.jurisdiction.name_en,
                  *((config.source_document.title, config.source_document.issuer)
                    if config.source_document else ()),
                  "".join(chr(c) for c in range(32, 127)), "–—−×·，。；：（）“”‘’、…％"]
        data, _flavor = report.font_subset("".join(pieces))
        return data

    # ------------------------------------------------------------------ views
    def _error(self, exc: ForecastError) -> dict:
        message = str(exc)
        key = None
        for control in self.session.controls:
            if re.search(rf"(^|[\s:]){re.escape(control.key)}(\b|\[|:)", message):
                key = control.key
                break
        if key is None and "scenario name" in message:
            key = "name"
        return {"ok": False, "error": message, "key": key}

    def view(self, payload: dict) -> dict:
        values, name, lang = _request_parts(payload)
        try:
            view = self.session.view(values, name)
        except ForecastError as exc:
            return self._error(exc)
        started = time.perf_counter()
        fragments = render.view_payload(view.result, self.session.baseline, name, lang)
        return {"ok": True, "name": name, "overlay": view.overlay,
                "overlay_yaml": self.session.overlay_yaml(view), **fragments,
                "ms": round((view.seconds + time.perf_counter() - started) * 1000)}

    def export_report(self, payload: dict) -> dict:
        """Write the view as `forecast run` writes a run of the config holding the scenario
        (tables, workbook, charts, manifest, report.html) into ``export_dir/NAME``, in a
        process of its own (:mod:`forecast.explore.export`)."""
        values, name, lang = _request_parts(payload)
        try:
            view = self.session.view(values, name)  # bad values answer here, at once
        except ForecastError as exc:
            return self._error(exc)
        target = self.export_dir / name
        try:
            check_export_target(target, self.session.config._source_path)
        except ForecastError as exc:
            return self._error(exc)
        request = {"config": str(self.session.config._source_path), "name": name,
                   "overlay": view.overlay, "out": str(target), "lang": lang}
        try:
            done = subprocess.run([sys.executable, "-m", "forecast.explore.export"],
                                  input=json.dumps(request, ensure_ascii=False), text=True,
                                  capture_output=True, timeout=EXPORT_SECONDS)
        except subprocess.TimeoutExpired:
            return {"ok": False, "key": None,
                    "error": f"the report export took over {EXPORT_SECONDS} s and was stopped"}
        if done.returncode != 0:
            lines = done.stderr.strip().splitlines() or ["the report export failed"]
            return {"ok": False, "key": None, "error": lines[-1].removeprefix("error: ")}
        self.reports[name] = target.resolve()
        return {"ok": True, "path": str(target), "url": f"/reports/{name}/report.html",
                "overlay_yaml": self.session.overlay_yaml(view)}


def check_export_target(target: Path, config_path: Path | None) -> None:
    """Refuse (OutputError) a report folder whose replacement could lose a user's file: one
    that is not a directory, holds the config, or is neither empty nor an earlier output of
    this tool (a manifest.json naming forecast)."""
    from forecast.presentation.outputs import OutputError

    resolved = target.resolve()
    if config_path is not None and resolved in Path(config_path).resolve().parents:
        raise OutputError("holds the config being explored; writing there would replace it",
                          path=target, fix="give --out a folder of its own")
    if not resolved.exists():
        return
    if not resolved.is_dir():
        raise OutputError("exists and is not a directory", path=target,
                          fix="choose another scenario name or --out")
    if not any(resolved.iterdir()):
        return
    manifest = resolved / "manifest.json"
    try:
        earlier = json.loads(manifest.read_text(encoding="utf-8")).get("tool", {}).get(
            "name") == "forecast"
    except (OSError, ValueError, AttributeError):
        earlier = False
    if not earlier:
        raise OutputError("exists and is not an earlier forecast output; it is left as it is",
                          path=target, fix="choose another scenario name or --out")


def _request_parts(payload: dict) -> tuple[dict, str, str]:
    if not isinstance(payload, dict):
        payload = {}
    values = payload.get("values") or {}
    name = str(payload.get("name") or DEFAULT_NAME).strip() or DEFAULT_NAME
    lang = payload.get("lang") if payload.get("lang") in ("zh", "en") else "zh"
    return (values if isinstance(values, dict) else {}), name, lang


def create_app(explorer: Explorer) -> Starlette:
    async def index(request: Request) -> Response:
        lang = request.query_params.get("lang", "zh")
        return HTMLResponse(explorer.page(lang if lang in ("zh", "en") else "zh"))

    async def font(request: Request) -> Response:
        data = await run_in_threadpool(lambda: explorer.font)
        return Response(data, media_type="font/woff2",
                        headers={"Cache-Control": "max-age=3600"})

    async def view(request: Request) -> Response:
        payload = await _json(request)
        return JSONResponse(await run_in_threadpool(explorer.view, payload))

    async def export(request: Request) -> Response:
        payload = await _json(request)
        return JSONResponse(await run_in_threadpool(explorer.export_report, payload))

    async def report_page(request: Request) -> Response:
        path = explorer.reports.get(request.path_params["name"])
        if path is None or not (path / report.REPORT_FILE).is_file():
            return Response("no such report", status_code=404)
        return FileResponse(path / report.REPORT_FILE, media_type="text/html")

    routes = [Route("/", index), Route("/font.woff2", font),
              Route("/api/view", view, methods=["POST"]),
              Route("/api/report", export, methods=["POST"]),
              Route("/reports/{name}/report.html", report_page),
              Mount("/static", app=StaticFiles(directory=STATIC), name="static")]
    return Starlette(routes=routes)


async def _json(request: Request) -> dict:
    try:
        payload = await request.json()
    except (ValueError, UnicodeDecodeError):
        return {}
    return payload if isinstance(payload, dict) else {}
