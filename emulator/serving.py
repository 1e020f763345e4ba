"""A WSGI server on a daemon thread, as the emulator and each local IdP run one."""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler

from config.logs import secrets_redacted


class QuietRequestHandler(WSGIRequestHandler):
    """No access log: request lines carry codes, states, tokens and SAML messages in their query."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass

    def log(self, type: str, message: str, *args: Any) -> None:
        # What werkzeug still logs (a malformed request, an error) can quote the request line.
        super().log(type, "%s", secrets_redacted(message % args if args else message))


def serve_in_thread(server: BaseWSGIServer, *, name: str) -> threading.Thread:
    """Serve until shut down, on a daemon thread."""
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    return thread


def shut_down(server: BaseWSGIServer | None, thread: threading.Thread | None) -> None:
    """Stop serving, close the socket and wait for the thread."""
    if server is not None:
        server.shutdown()
        server.server_close()
    if thread is not None:
        thread.join(timeout=5)
