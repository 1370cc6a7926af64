"""`forecast explore`: a scenario explorer in the browser.

- :mod:`.session`: the config read once, the unit's default inputs cached, controls → a
  scenario overlay → :func:`forecast.pipeline.run.run`;
- :mod:`.render`: the page fragments of a view (the report's findings, a gap table, SVG charts);
- :mod:`.app`: the Starlette app (page, static files, font subset, JSON API, report export);
- :mod:`.server`: uvicorn on 127.0.0.1, stopped cleanly by SIGTERM or Ctrl-C.
"""
