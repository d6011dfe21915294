"""Serving the lab: checking ``genlab lab``'s options, listening (on 127.0.0.1 unless asked otherwise), and
running until Ctrl-C.

The server is werkzeug's threaded WSGI server (Flask's, under Dash): each request runs on its own thread,
the numerical kernels release the GIL, and a long computation runs as a job (:mod:`genlab.lab.jobs`). It
serves every script from the installed packages (Dash's and plotly.js): nothing is fetched from the
network. The lab writes only its results store (``--store``, with the store's own files beside it), where
the sweeps it runs from its pages keep their records; on Ctrl-C running sweeps are stopped and left
resumable before the process ends. ``GENLAB_LAB_WARM_UP=0`` skips the warm-up (:func:`warm_up`; the tests
set it).
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import os
import socket
import socketserver
import sys
import threading
from pathlib import Path

from ..core.errors import GenlabError
from .jobs import DEFAULT_STORE
from .words import LANGS


def check_options(*, port, host, lang, store) -> Path:
    """Refuse a bad option with one line (:class:`GenlabError`) before anything starts; returns the store path."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise GenlabError(f"--port must be an integer from 1 to 65535 (0: any free port), got {port!r}")
    if not isinstance(host, str) or not host.strip() or len(host) > 253 or any(c.isspace() for c in host):
        raise GenlabError(f"--host must be a host name or an address, e.g. 127.0.0.1, got {host!r}")
    if lang not in LANGS:
        raise GenlabError(f"--lang must be one of {', '.join(LANGS)}, got {lang!r}")
    path = Path(store)
    if path.exists() and path.is_dir():
        raise GenlabError(f"--store {store} is a folder; give the path of a file (the folder is created when needed)")
    folder = path.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise GenlabError(f"--store {store} cannot be written ({folder} is not a writable folder); give another path")
    return path


def is_loopback(host: str) -> bool:
    """True when every address ``host`` names is this machine's loopback (127.0.0.0/8, ::1)."""
    try:
        infos = socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError):
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0].split("%")[0]).is_loopback for i in infos)


def url_of(host: str, port: int) -> str:
    shown = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"http://{f'[{shown}]' if ':' in shown else shown}:{port}/"


def allowed_hosts(host: str, port: int):
    """The ``Host`` headers the lab answers when it listens on loopback (names of this machine only); None,
    all of them, when it was asked to listen elsewhere."""
    if not is_loopback(host):
        return None
    names = {"127.0.0.1", "localhost", "[::1]", f"[{host}]" if ":" in host else host}
    return [f"{name}:{port}" for name in names]


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``, or a one-line :class:`GenlabError` saying why not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # as werkzeug chooses
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except (OSError, UnicodeError) as exc:
        sock.close()
        code = getattr(exc, "errno", None)
        if code == errno.EADDRINUSE:
            raise GenlabError(f"port {port} on {host} is in use (another genlab lab?); give another --port") from None
        if code == errno.EACCES:
            raise GenlabError(f"listening on port {port} is not permitted here; give a port above 1023") from None
        if isinstance(exc, (socket.gaierror, UnicodeError)) or code == errno.EADDRNOTAVAIL:
            raise GenlabError(f"--host {host} is not an address of this machine; give 127.0.0.1 "
                              "(the default)") from None
        raise GenlabError(f"cannot listen on {host}:{port}: {getattr(exc, 'strerror', None) or exc}") from None
    return sock


def warm_up(lang: str) -> None:
    """Compute each page's default view once, on a background thread: the imports, the compiled kernels and
    the caches are ready when the first visitor comes."""
    from .pages import biasvar, overfitting, ridge, scaling

    for module in (overfitting, biasvar, ridge):
        try:
            module.update({}, lang)
        except Exception:  # noqa: BLE001 - a warm-up is an optimization; a page reports its own errors
            pass
    try:
        scaling.sample()
        import scipy.optimize  # noqa: F401
    except Exception:  # noqa: BLE001
        pass


def serve(*, host: str = "127.0.0.1", port: int = 8050, lang: str = "en", store=DEFAULT_STORE,
          open_browser: bool = False, warm: bool = True, out=None) -> None:
    """Serve the lab until Ctrl-C (which propagates as KeyboardInterrupt, after the socket is closed).

    Prints the URL (and, when listening beyond this machine, a warning on stderr) once the socket listens.
    """
    from werkzeug.serving import make_server

    from .app import make_app

    store = check_options(port=port, host=host, lang=lang, store=store)
    out = out or sys.stdout
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    sock = listen(host, port)
    port = sock.getsockname()[1]
    app = make_app(lang, hosts=allowed_hosts(host, port), store=store)
    app.genlab["store"] = store
    try:
        server = make_server(host, port, app.server, threaded=True, fd=sock.fileno())
    finally:
        sock.close()  # the server holds its own duplicate
    url = url_of(host, port)
    if not is_loopback(host):
        sys.stderr.write(f"genlab: warning: listening on {host}:{port}, beyond this machine: anyone who can reach "
                         "it can use the lab and its CPU (there is no login)\n")
    out.write(f"genlab lab: {url} (Ctrl-C stops it)\n")
    out.flush()
    if warm and os.environ.get("GENLAB_LAB_WARM_UP", "1") != "0":
        threading.Thread(target=warm_up, args=(lang,), name="genlab-lab-warm-up", daemon=True).start()
    if open_browser:
        import webbrowser

        threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
    try:
        socketserver.BaseServer.serve_forever(server, poll_interval=0.5)  # werkzeug's own swallows Ctrl-C
    except KeyboardInterrupt:
        out.write("genlab lab: stopped\n")
        out.flush()
        raise
    finally:
        server.server_close()
        app.genlab["jobs"].shutdown()
