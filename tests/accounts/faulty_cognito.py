"""A cognito-idp endpoint in front of the emulator that answers chosen operations with a fault.

The process boundary is where the fault is made: the app's boto3 client talks real HTTP to this
server, which forwards every other operation to the emulator unchanged.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

AMZ_JSON = "application/x-amz-json-1.1"


@dataclass
class FaultyCognito:
    """Faults by operation name (`InitiateAuth`): an HTTP status and an error type, or raw HTML."""

    upstream: str
    faults: dict[str, tuple[int, str]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    url: str = ""

    def fail(self, operation: str, error_type: str, *, status: int = 400) -> None:
        self.faults[operation] = (status, error_type)


def _handler(state: FaultyCognito) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            operation = self.headers.get("X-Amz-Target", "").rpartition(".")[2]
            state.calls.append(operation)
            if operation in state.faults:
                status, error_type = state.faults[operation]
                if error_type.startswith("<"):
                    self._answer(status, error_type.encode(), "text/html")
                else:
                    payload = {"__type": error_type, "message": f"{error_type} from the test"}
                    self._answer(status, json.dumps(payload).encode(), AMZ_JSON)
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            upstream = requests.post(
                state.upstream + self.path, data=body, headers=headers, timeout=10
            )
            self._answer(
                upstream.status_code,
                upstream.content,
                upstream.headers.get("Content-Type", AMZ_JSON),
            )

        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextmanager
def faulty_cognito(upstream: str) -> Iterator[FaultyCognito]:
    state = FaultyCognito(upstream=upstream)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
