"""One AWS endpoint in front of the emulator that answers chosen operations with a fault.

The process boundary is where the fault is made: the app's boto3 clients (cognito-idp,
cognito-identity, STS, S3) talk real HTTP to this server, which forwards every other request to
the emulator unchanged, Host header included so that SigV4 signatures still verify there.

Operations are named as botocore names them: `InitiateAuth`, `GetCredentialsForIdentity`,
`AssumeRoleWithWebIdentity`, `ListObjectsV2`. A fault is an HTTP status with an AWS error code
(in each protocol's own error format), raw HTML, or a delay longer than the client will wait.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import requests

AMZ_JSON = "application/x-amz-json-1.1"
# Not forwarded: they describe this connection, not the request.
_HOP_BY_HOP = {"connection", "content-length", "transfer-encoding", "expect", "keep-alive"}
_S3_OPERATIONS = {"GET": "GetObject", "PUT": "PutObject", "HEAD": "HeadObject"}
_S3_OPERATIONS |= {"DELETE": "DeleteObject", "POST": "PostObject"}


@dataclass
class FaultyAws:
    """Faults by operation name: an HTTP status and an AWS error code, raw HTML, or a delay."""

    upstream: str
    faults: dict[str, tuple[int, str]] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    url: str = ""

    def fail(self, operation: str, error_type: str, *, status: int = 400) -> None:
        self.faults[operation] = (status, error_type)

    def hang(self, operation: str, seconds: float) -> None:
        """Hold `operation` for `seconds`, then close without an answer (nor forwarding it)."""
        self.delays[operation] = seconds

    def heal(self) -> None:
        """Every fault gone: the service is back."""
        self.faults.clear()
        self.delays.clear()


def operation_of(method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[str, str]:
    """The operation a request calls and its protocol (`json`, `query` or `s3`)."""
    target = headers.get("x-amz-target", "")
    if target:
        return target.rpartition(".")[2], "json"
    content_type = headers.get("content-type", "")
    if method == "POST" and content_type.startswith("application/x-www-form-urlencoded"):
        action = parse_qs(body.decode(errors="replace")).get("Action", [""])[0]
        if action:
            return action, "query"
    query = parse_qs(urlsplit(path).query, keep_blank_values=True)
    if method == "GET" and query.get("list-type") == ["2"]:
        return "ListObjectsV2", "s3"
    return _S3_OPERATIONS.get(method, method), "s3"


def _error_body(protocol: str, error_type: str) -> tuple[bytes, str]:
    message = f"{error_type} from the test"
    if error_type.startswith("<"):
        return error_type.encode(), "text/html"
    if protocol == "json":
        return json.dumps({"__type": error_type, "message": message}).encode(), AMZ_JSON
    if protocol == "query":
        body = (
            '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
            f"<Type>Sender</Type><Code>{error_type}</Code><Message>{message}</Message>"
            "</Error><RequestId>faulty-aws</RequestId></ErrorResponse>"
        )
        return body.encode(), "text/xml"
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Error><Code>{error_type}</Code><Message>{message}</Message>"
        "<RequestId>faulty-aws</RequestId></Error>"
    )
    return body.encode(), "application/xml"


def _handler(state: FaultyAws) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.1, so that botocore's `Expect: 100-continue` (S3 uploads) gets its answer.
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._serve()

        do_POST = do_PUT = do_DELETE = do_HEAD = do_GET

        def _serve(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {name.lower(): value for name, value in self.headers.items()}
            operation, protocol = operation_of(self.command, self.path, headers, body)
            state.calls.append(operation)
            if operation in state.delays:
                # An unresponsive service: no answer in time, and nothing reaches the emulator.
                time.sleep(state.delays[operation])
                self.close_connection = True
                return
            if operation in state.faults:
                status, error_type = state.faults[operation]
                self._answer(status, *_error_body(protocol, error_type))
                return
            upstream = requests.request(
                self.command,
                state.upstream + self.path,
                data=body,
                headers={k: v for k, v in headers.items() if k not in _HOP_BY_HOP},
                allow_redirects=False,
                timeout=10,
            )
            passed = {
                k: v
                for k, v in upstream.headers.items()
                if k.lower() not in _HOP_BY_HOP | {"content-encoding", "content-type"}
            }
            self._answer(
                upstream.status_code,
                upstream.content,
                upstream.headers.get("Content-Type", AMZ_JSON),
                passed,
                length=upstream.headers.get("Content-Length"),
            )

        def _answer(
            self,
            status: int,
            body: bytes,
            content_type: str,
            headers: dict[str, str] | None = None,
            *,
            length: str | None = None,
        ) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                # A HEAD answer says the object's length and carries no body.
                head = self.command == "HEAD"
                self.send_header("Content-Length", length if head and length else str(len(body)))
                self.end_headers()
                if not head:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a timeout the test asked for)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextmanager
def faulty_aws(upstream: str) -> Iterator[FaultyAws]:
    """A faulty endpoint on a free port, forwarding to `upstream` (the emulator's URL)."""
    state = FaultyAws(upstream=upstream)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
