"""`forecast explore`: serve the explorer on 127.0.0.1 until SIGTERM or Ctrl-C.

uvicorn handles both signals: it stops accepting, finishes the requests in flight and
returns, so the command ends with status 0 and a closing line.
"""

from __future__ import annotations

import errno
import signal
import socket
import threading
import webbrowser
from pathlib import Path

from forecast.errors import ForecastError

HOST = "127.0.0.1"


class ExploreError(ForecastError):
    """The explorer cannot start (a port in use, say)."""


def bind(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1:``port`` (0 = a free port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        reason = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc})"
        raise ExploreError(f"port {port} {reason}", field="--port",
                           fix="choose another port, or --port 0 for a free one") from None
    sock.listen(64)
    sock.set_inheritable(True)
    return sock


def serve(config_path: Path, port: int, open_browser: bool, export_dir: Path | None,
          echo=print) -> None:
    """Build the session (ForecastError on a bad config), then serve until stopped."""
    import uvicorn

    from .app import Explorer, create_app
    from .session import Session

    sock = bind(port)  # first: a port in use fails at once
    try:
        session = Session.open(config_path)
    except BaseException:
        sock.close()
        raise
    export_dir = export_dir or Path("outputs") / f"{session.config.name}-explore"
    explorer = Explorer(session, export_dir)
    # cut the font while the server starts; the first page's font request waits for it
    threading.Thread(target=lambda: explorer.font, daemon=True).start()
    url = f"http://{HOST}:{sock.getsockname()[1]}/"
    server = uvicorn.Server(uvicorn.Config(create_app(explorer), log_level="warning",
                                           lifespan="off", access_log=False))
    echo(f"forecast explore: {session.config.name} at {url} (reports go to {export_dir}/; "
         "Ctrl-C to stop)")
    if open_browser:
        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    # uvicorn catches SIGINT/SIGTERM while it runs, shuts down gracefully, then re-raises the
    # signal to the handler that was installed before it: this one, which only asks it to
    # stop, so the command ends normally (status 0) on Ctrl-C and on SIGTERM alike.
    received: list[int] = []

    def stop(signum, frame) -> None:
        received.append(signum)
        server.should_exit = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    name = signal.Signals(received[0]).name if received else "shutdown"
    echo(f"forecast explore: stopped ({name})")
