"""Filling the server with uploads: bodies over the limit, streamed bodies, strangers' bodies.

Against a real server (pytest-django's live server, over a raw socket) and the test client. The
proof that a body was not read: the server answers while the client has sent only the headers;
its twin, a signed-in user's upload under the limit, gets no answer until the body is sent.
"""

from __future__ import annotations

import asyncio
import re
import socket
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from emulator import seed
from emulator.storage_world import demo_identity_id
from protected.forms import MAX_UPLOAD_BYTES
from tests.accounts.conftest import _plain_static_storage, bob, sign_in
from tests.emulator.identity_flows import aws_client

__all__ = ["_plain_static_storage", "bob", "sign_in"]  # fixtures
pytestmark = pytest.mark.django_db(transaction=True)

MB = 1024 * 1024


def stored_names(emulator: Any, username: str = "bob") -> list[str]:
    prefix = f"private/{demo_identity_id(username)}/"
    answer = aws_client(emulator, "s3").list_objects_v2(Bucket=seed.BUCKET, Prefix=prefix)
    return sorted(item["Key"].removeprefix(prefix) for item in answer.get("Contents", []))


def multipart(name: str, content: bytes, csrf_token: str = "") -> tuple[str, bytes]:
    """A multipart body with one file field (and the CSRF token when given)."""
    boundary = uuid.uuid4().hex
    parts = []
    if csrf_token:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n'
            f"{csrf_token}\r\n".encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: text/plain\r\n\r\n".encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return f"multipart/form-data; boundary={boundary}", b"".join(parts)


class Connection:
    """One raw HTTP/1.1 connection to the live server."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host = parts.netloc
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=10)

    def send_headers(self, path: str, headers: dict[str, str]) -> None:
        lines = [f"POST {path} HTTP/1.1", f"Host: {self.host}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())

    def answer_within(self, seconds: float) -> bytes | None:
        """The whole answer, or None when the server says nothing for that long.

        Read by its Content-Length: a server may keep the connection open to drain the body.
        """
        self.sock.settimeout(seconds)
        received = b""
        try:
            while b"\r\n\r\n" not in received:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return received or None
                received += chunk
            self.sock.settimeout(10)
            head, _, body = received.partition(b"\r\n\r\n")
            length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            if not length:  # the answer ends when the server closes or falls quiet
                self.sock.settimeout(1)
            while not length or len(body) < int(length[1]):
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                body += chunk
        except TimeoutError:
            if b"\r\n\r\n" not in received:
                return received or None
        return head + b"\r\n\r\n" + body

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def connection(live_server: Any) -> Iterator[Connection]:
    opened = Connection(live_server.url)
    yield opened
    opened.close()


def cookies_of(client: Client) -> dict[str, str]:
    """The session and CSRF cookies of a test client, as headers for the raw connection."""
    client.get("/accounts/signin/")  # any page with a form gives anybody a CSRF cookie
    jar = "; ".join(f"{name}={morsel.value}" for name, morsel in client.cookies.items())
    return {"Cookie": jar}


# --- over the limit: refused from the Content-Length ----------------------------------------------


def test_a_body_over_the_limit_is_refused_before_it_is_sent(
    bob: Client, connection: Connection, emulator: Any
) -> None:
    content_type, _ = multipart("huge.bin", b"")
    connection.send_headers(
        "/protected/upload/",
        {**cookies_of(bob), "Content-Type": content_type, "Content-Length": str(50 * MB)},
    )

    answer = connection.answer_within(5)

    assert answer is not None, "the server waited for a 50 MB body"
    assert answer.startswith(b"HTTP/1.1 413")
    assert b"at most 1 MB" in answer
    assert stored_names(emulator) == ["bob-notes.txt"]


def test_an_upload_under_the_limit_is_read_and_stored(
    bob: Client, connection: Connection, emulator: Any
) -> None:
    headers = cookies_of(bob)
    content_type, body = multipart("notes.txt", b"x" * 200_000, bob.cookies["csrftoken"].value)
    connection.send_headers(
        "/protected/upload/",
        {**headers, "Content-Type": content_type, "Content-Length": str(len(body))},
    )

    assert connection.answer_within(1.5) is None  # the server waits for the body
    connection.sock.sendall(body)

    assert (connection.answer_within(10) or b"").startswith(b"HTTP/1.1 302")
    assert stored_names(emulator) == ["bob-notes.txt", "notes.txt"]


def test_the_friendly_page_says_the_limit(bob: Client, emulator: Any) -> None:
    upload = SimpleUploadedFile("big.txt", b"x" * (2 * MB), content_type="text/plain")

    response = bob.post("/protected/upload/", {"file": upload})

    assert response.status_code == 413
    assert 'data-testid="error"' in response.content.decode()
    assert "at most 1 MB" in response.content.decode()
    assert stored_names(emulator) == ["bob-notes.txt"]


def test_a_file_of_exactly_the_limit_is_stored(bob: Client, emulator: Any) -> None:
    upload = SimpleUploadedFile("full.txt", b"x" * MAX_UPLOAD_BYTES, content_type="text/plain")

    assert bob.post("/protected/upload/", {"file": upload}).status_code == 302
    assert stored_names(emulator) == ["bob-notes.txt", "full.txt"]


def test_a_file_one_byte_over_is_refused_by_the_form(bob: Client, emulator: Any) -> None:
    upload = SimpleUploadedFile(
        "over.txt", b"x" * (MAX_UPLOAD_BYTES + 1), content_type="text/plain"
    )

    response = bob.post("/protected/upload/", {"file": upload}, follow=True)

    assert "Files may be at most 1 MB." in response.content.decode()
    assert stored_names(emulator) == ["bob-notes.txt"]


# --- nothing on disk ----------------------------------------------------------------------------


def test_uploads_never_touch_the_disk(bob: Client, emulator: Any, settings: Any, tmp_path) -> None:
    # Django's own handlers would spool anything over 1 kB to this directory, which is missing.
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "missing")
    upload = SimpleUploadedFile("spool.txt", b"x" * 500_000, content_type="text/plain")

    assert bob.post("/protected/upload/", {"file": upload}).status_code == 302
    assert stored_names(emulator) == ["bob-notes.txt", "spool.txt"]


def test_djangos_default_handlers_would_have_spooled_it(
    bob: Client, emulator: Any, settings: Any, tmp_path
) -> None:
    """The twin: the same upload with Django's default handlers goes to the temp directory."""
    settings.FILE_UPLOAD_HANDLERS = [
        "django.core.files.uploadhandler.MemoryFileUploadHandler",
        "django.core.files.uploadhandler.TemporaryFileUploadHandler",
    ]
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "missing")
    upload = SimpleUploadedFile("spool.txt", b"x" * 500_000, content_type="text/plain")

    with pytest.raises(FileNotFoundError):
        bob.post("/protected/upload/", {"file": upload})


# --- streamed bodies ------------------------------------------------------------------------------


def test_a_chunked_body_stores_nothing(bob: Client, connection: Connection, emulator: Any) -> None:
    headers = cookies_of(bob)
    content_type, body = multipart("stream.txt", b"x" * (3 * MB), bob.cookies["csrftoken"].value)
    connection.send_headers(
        "/protected/upload/",
        {
            **headers,
            "Content-Type": content_type,
            "Transfer-Encoding": "chunked",
            "X-CSRFToken": bob.cookies["csrftoken"].value,
        },
    )
    try:
        for start in range(0, len(body), 64 * 1024):
            piece = body[start : start + 64 * 1024]
            connection.sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        connection.sock.sendall(b"0\r\n\r\n")
    except OSError:
        pass  # the server answered and closed without reading the stream: as good

    answer = connection.answer_within(10) or b""

    # Read as an empty form: back to the page with "no file", and nothing stored.
    assert answer.startswith(b"HTTP/1.1 302")
    assert stored_names(emulator) == ["bob-notes.txt"]


# --- strangers: refused before the body is parsed -------------------------------------------------


@pytest.mark.parametrize("visitor", ["signed out", "guest"])
def test_a_strangers_upload_is_refused_before_its_body_is_read(
    visitor: str, client: Client, connection: Connection, emulator: Any
) -> None:
    if visitor == "guest":
        client.post("/identity/guest/")
    content_type, _ = multipart("x.txt", b"")
    connection.send_headers(
        "/protected/upload/",
        {**cookies_of(client), "Content-Type": content_type, "Content-Length": str(900_000)},
    )

    answer = connection.answer_within(5)

    assert "csrftoken" in client.cookies  # what a CSRF check would parse the body for
    assert answer is not None, "the server waited for a stranger's body"
    assert answer.startswith(b"HTTP/1.1 403")
    assert b"Sign in to upload" in answer


# --- under ASGI: Django reads the whole body before any middleware ------------------------------


def asgi_post(
    headers: list[tuple[bytes, bytes]], chunks: list[bytes], wait: float = 10
) -> tuple[int | None, int]:
    """POST to config.asgi's application: the status it answers (None: none) and chunks unread."""
    from asgiref.testing import ApplicationCommunicator

    from config.asgi import application

    async def scenario() -> tuple[int | None, int]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/protected/upload/",
            "raw_path": b"/protected/upload/",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"testserver"), *headers],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }
        communicator = ApplicationCommunicator(application, scope)
        for index, chunk in enumerate(chunks):
            more = index < len(chunks) - 1
            await communicator.send_input(
                {"type": "http.request", "body": chunk, "more_body": more}
            )
        try:
            start = await communicator.receive_output(timeout=wait)
        except Exception:  # the application finished without answering
            start = None
        await communicator.wait(timeout=10)
        unread = communicator.input_queue.qsize()
        return (start["status"] if start else None), unread

    return asyncio.run(scenario())


def test_under_asgi_a_body_over_the_limit_is_refused_unread() -> None:
    chunks = [b"x" * (64 * 1024)] * 40

    status, unread = asgi_post([(b"content-length", str(40 * 64 * 1024).encode())], chunks)

    assert status == 413
    assert unread == len(chunks)


def test_under_asgi_a_streamed_body_is_cut_at_the_limit() -> None:
    chunks = [b"x" * (64 * 1024)] * 40  # 2.5 MB, no Content-Length

    status, unread = asgi_post([], chunks, wait=2)

    assert status is None  # Django stops reading and answers nothing
    assert unread >= 40 - (MAX_UPLOAD_BYTES + 64 * 1024) // (64 * 1024) - 2


def test_under_asgi_a_body_under_the_limit_is_read_whole() -> None:
    chunks = [b"x" * (64 * 1024)] * 4

    status, unread = asgi_post([(b"content-length", str(4 * 64 * 1024).encode())], chunks)

    assert status == 403  # read, then refused: nobody is signed in
    assert unread == 0
