"""`/protected/` against the emulator: S3 read and written with the identity's own credentials."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from config import aws
from emulator import seed
from emulator.storage_world import demo_identity_id
from identity.session import CREDENTIALS
from tests.accounts.conftest import edit_session
from tests.emulator.identity_flows import aws_client

OBJECT = re.compile(r'data-testid="s3-object">([^<]+)<')


def listed(page) -> list[str]:
    assert page.status_code == 200, page.content.decode()[:1000]
    return OBJECT.findall(page.content.decode())


def access_key(client: Client) -> str:
    return client.session[CREDENTIALS]["credentials"]["access_key_id"]


def test_a_user_sees_their_own_private_files(client: Client, sign_in) -> None:
    sign_in("bob")

    assert listed(client.get("/protected/")) == ["bob-notes.txt"]


def test_a_user_sees_public_and_protected_files(client: Client, sign_in) -> None:
    sign_in("carol")

    assert listed(client.get("/protected/?folder=public")) == ["guide.txt", "welcome.txt"]
    assert listed(client.get("/protected/?folder=protected")) == ["team-notes.txt"]
    assert listed(client.get("/protected/?folder=private")) == ["carol-notes.txt"]


def test_a_user_downloads_their_own_file(client: Client, sign_in) -> None:
    sign_in("bob")

    response = client.get("/protected/download/private/bob-notes.txt")

    assert response.status_code == 200
    assert response.content.startswith(b"Private notes of bob")
    assert response["Content-Disposition"] == 'attachment; filename="bob-notes.txt"'
    assert "sandbox" in response["Content-Security-Policy"]


def test_another_users_folder_cannot_even_be_named(client: Client, sign_in) -> None:
    sign_in("bob")
    carol = demo_identity_id("carol")

    # The private prefix comes from bob's session: this names private/<bob>/<carol>/...
    response = client.get(f"/protected/open/private/{carol}/carol-notes.txt")
    traversal = client.get(f"/protected/open/private/../private/{carol}/carol-notes.txt")

    assert response.status_code == 404
    assert b"Private notes of carol" not in response.content
    assert traversal.status_code == 404
    assert b"<title>File not found" in traversal.content


def test_a_user_uploads_into_their_own_folder(client: Client, sign_in) -> None:
    sign_in("bob")
    upload = SimpleUploadedFile("report.txt", b"quarterly numbers", content_type="text/plain")

    response = client.post("/protected/upload/", {"file": upload})

    assert response.status_code == 302
    assert listed(client.get("/protected/")) == ["bob-notes.txt", "report.txt"]
    stored = aws_client_get(f"private/{demo_identity_id('bob')}/report.txt")
    assert stored == b"quarterly numbers"


@pytest.mark.parametrize(
    ("folder", "name"), [("private", "my notes 2.txt"), ("public", "welcome.txt")]
)
def test_each_listed_file_links_to_where_it_opens(client: Client, sign_in, folder, name) -> None:
    sign_in("bob")
    if folder == "private":
        upload = SimpleUploadedFile(name, b"notes with a space", content_type="text/plain")
        assert client.post("/protected/upload/", {"file": upload}).status_code == 302
    page = client.get(f"/protected/?folder={folder}").content.decode()

    link = re.search(rf'href="([^"]+)" data-testid="s3-object">{re.escape(name)}<', page)

    assert link is not None
    assert link.group(1) == reverse("protected:open", args=[folder, name])
    assert client.get(link.group(1)).status_code == 200


def aws_client_get(key: str) -> bytes:
    from emulator.server import Emulator

    emulator = Emulator._running
    assert emulator is not None
    admin = aws_client(emulator, "s3")
    return admin.get_object(Bucket=seed.BUCKET, Key=key)["Body"].read()


def test_an_uploads_directory_parts_are_dropped(client: Client, sign_in) -> None:
    sign_in("bob")
    upload = SimpleUploadedFile("../../public/escape.txt", b"x", content_type="text/plain")

    client.post("/protected/upload/", {"file": upload})

    assert listed(client.get("/protected/")) == ["bob-notes.txt", "escape.txt"]
    assert listed(client.get("/protected/?folder=public")) == ["guide.txt", "welcome.txt"]


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        (".hidden", False),
        ("hidden.txt", True),
        ("x" * 120 + ".txt", False),
        ("x" * 96 + ".txt", True),
        ("semi;colon.txt", True),
    ],
)
def test_upload_names_are_safe_file_names(client: Client, sign_in, name: str, stored) -> None:
    sign_in("bob")
    upload = SimpleUploadedFile(name, b"x", content_type="text/plain")

    client.post("/protected/upload/", {"file": upload})

    assert listed(client.get("/protected/")) == sorted(["bob-notes.txt"] + [name] * stored)


def test_a_role_without_write_access_gets_the_403_page(client: Client, sign_in) -> None:
    sign_in("alice")
    client.post("/identity/", {"flow": "enhanced", "role": seed.READ_ONLY_ROLE})
    upload = SimpleUploadedFile("x.txt", b"x", content_type="text/plain")

    response = client.post("/protected/upload/", {"file": upload})

    assert response.status_code == 403
    assert "does not allow" in response.content.decode()
    assert "cognito-demo-read-only" in response.content.decode()
    assert listed(client.get("/protected/")) == ["alice-notes.txt"]


def test_a_guest_sees_only_public_files(client: Client, emulator, db) -> None:
    client.post("/identity/guest/")

    page = client.get("/protected/")

    assert listed(page) == ["guide.txt", "welcome.txt"]
    assert 'data-testid="upload"' not in page.content.decode()


@pytest.mark.parametrize("folder", ["private", "protected"])
def test_a_guest_is_denied_private_and_protected(client: Client, emulator, db, folder) -> None:
    client.post("/identity/guest/")

    response = client.get(f"/protected/?folder={folder}")

    assert response.status_code == 403
    assert "cognito-demo-guest" in response.content.decode()
    assert 'data-testid="s3-object"' not in response.content.decode()


def test_a_guest_cannot_upload(client: Client, emulator, db) -> None:
    client.post("/identity/guest/")
    upload = SimpleUploadedFile("x.txt", b"x", content_type="text/plain")

    assert client.post("/protected/upload/", {"file": upload}).status_code == 403


def test_nobody_is_sent_to_sign_in(client: Client, db) -> None:
    response = client.get("/protected/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_credentials_s3_calls_expired_are_renewed_once_and_retried(
    client: Client, sign_in, emulator
) -> None:
    sign_in("bob")
    client.get("/protected/")
    old_key = access_key(client)
    emulator.state.sessions.expire(old_key)

    page = client.get("/protected/")

    assert listed(page) == ["bob-notes.txt"]
    assert access_key(client) != old_key


def test_credentials_about_to_expire_are_renewed_before_use(client: Client, sign_in) -> None:
    sign_in("bob")
    client.get("/protected/")
    old_key = access_key(client)

    def nearly_expired(session) -> None:
        stored = session[CREDENTIALS]
        session[CREDENTIALS] = {**stored, "expires_at": time.time() + 60}

    edit_session(client, nearly_expired)

    assert listed(client.get("/protected/")) == ["bob-notes.txt"]
    assert access_key(client) != old_key


class AwsCalls:
    """Counts, through botocore's own events, the requests sent and the clients built."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.clients = 0

    def sent(self, request, **kwargs) -> None:
        self.requests.append(f"{request.method} {request.url}")

    def built(self, **kwargs) -> None:
        self.clients += 1

    def reset(self) -> None:
        self.requests.clear()
        self.clients = 0


@pytest.fixture
def aws_calls() -> Iterator[AwsCalls]:
    calls = AwsCalls()
    events = aws.session().events
    aws.clients_clear()  # every client built from here on carries the hooks
    events.register("before-send", calls.sent, unique_id="count-requests")
    events.register("creating-client-class", calls.built, unique_id="count-clients")
    yield calls
    events.unregister("before-send", unique_id="count-requests")
    events.unregister("creating-client-class", unique_id="count-clients")
    aws.clients_clear()


def test_a_view_with_cached_credentials_makes_one_aws_call_and_builds_no_client(
    client: Client, sign_in, aws_calls: AwsCalls
) -> None:
    sign_in("bob")
    client.get("/protected/")  # gets the credentials and builds the S3 client
    assert aws_calls.clients > 0
    aws_calls.reset()

    page = client.get("/protected/")

    assert listed(page) == ["bob-notes.txt"]
    assert len(aws_calls.requests) == 1
    assert "list-type=2" in aws_calls.requests[0]
    assert aws_calls.clients == 0


def test_s3_not_answering_is_a_friendly_503(client: Client, sign_in, settings) -> None:
    sign_in("bob")
    client.get("/protected/")
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens there
    settings.HTTP_TIMEOUT = (0.5, 0.5)

    started = time.monotonic()
    response = client.get("/protected/")

    assert response.status_code == 503
    assert time.monotonic() - started < 10
    assert 'data-testid="error"' in response.content.decode()


@pytest.mark.parametrize("who", ["bob", "guest"])
def test_a_reset_pool_is_survived(client: Client, sign_in, emulator, who: str) -> None:
    if who == "guest":
        client.post("/identity/guest/")
    else:
        sign_in(who)
    before = listed(client.get("/protected/"))

    emulator.reset()  # the pool forgets every identity and session, as POST reset_url does

    assert listed(client.get("/protected/")) == before
