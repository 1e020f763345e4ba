"""The files page: the upload limit, Unicode names, delete, and text shown in the site."""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Any
from urllib.parse import quote, unquote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from emulator import seed
from emulator.storage_world import demo_identity_id
from protected.forms import MAX_UPLOAD_BYTES, UploadForm
from protected.uploads import MAX_BODY_BYTES
from tests.emulator.identity_flows import aws_client

OBJECT = re.compile(r'href="([^"]+)" data-testid="s3-object">([^<]+)<')
UNICODE_NAME = "héllo wörld.txt"


def listed(client: Client, folder: str = "private") -> dict[str, str]:
    """The names on a folder's page, each with the link it opens at."""
    page = client.get("/protected/", {"folder": folder})
    assert page.status_code == 200, page.content.decode()[:1000]
    return {html.unescape(name): html.unescape(link) for link, name in OBJECT.findall(page.text)}


def stored_keys(emulator: Any, prefix: str) -> list[str]:
    answer = aws_client(emulator, "s3").list_objects_v2(Bucket=seed.BUCKET, Prefix=prefix)
    return [item["Key"] for item in answer.get("Contents", [])]


def put(emulator: Any, key: str, body: bytes) -> None:
    aws_client(emulator, "s3").put_object(Bucket=seed.BUCKET, Key=key, Body=body)


def upload(client: Client, name: str, body: bytes = b"some text", **extra: Any) -> Any:
    file = SimpleUploadedFile(name, body, content_type="text/plain")
    return client.post("/protected/upload/", {"file": file}, **extra)


def bob_private(name: str = "") -> str:
    return f"private/{demo_identity_id('bob')}/{name}"


# --- the upload limit ---------------------------------------------------------------------------


def test_the_upload_limit_is_said_beside_the_upload_control(bob: Client) -> None:
    page = bob.get("/protected/").text

    limit = re.search(r'data-testid="upload-limit">([^<]+)<', page)

    assert limit is not None and "1 MB" in limit.group(1)
    assert page.index('data-testid="upload-limit"') < page.index('data-testid="upload"')


@pytest.mark.parametrize(("size", "stored"), [(MAX_UPLOAD_BYTES + 1, False), (10, True)])
def test_a_refused_upload_says_the_limit_and_what_to_do(
    bob: Client, emulator: Any, size: int, stored: bool
) -> None:
    page = upload(bob, "big.txt", b"x" * size, follow=True).text

    assert ("Files may be at most 1 MB. Choose a smaller file." in page) is not stored
    assert (bob_private("big.txt") in stored_keys(emulator, bob_private())) is stored


def test_a_body_over_the_limit_gets_a_page_saying_the_limit_and_what_to_do(bob: Client) -> None:
    response = upload(bob, "huge.txt", b"x" * (MAX_BODY_BYTES + 1))

    assert response.status_code == 413
    assert "<title>File too large" in response.text
    assert "at most 1 MB" in response.text and "Choose a smaller file" in response.text


# --- names in any script ------------------------------------------------------------------------


@pytest.mark.parametrize("name", [UNICODE_NAME, "日本語のメモ.txt", "Ünïcödé & (copy) #2.txt"])
def test_a_unicode_name_is_stored_listed_linked_and_opened(
    bob: Client, emulator: Any, name: str
) -> None:
    assert upload(bob, name, "contenu: été".encode()).status_code == 302

    link = listed(bob)[name]
    opened = bob.get(link)

    assert bob_private(name) in stored_keys(emulator, bob_private())
    assert unquote(link) == f"/protected/open/private/{name}"  # quoted: "#" must not end it
    assert opened.status_code == 200
    assert "contenu: été" in opened.text
    assert f"<title>{html.escape(name)} ·" in opened.text


def test_a_name_typed_with_combining_accents_is_stored_in_one_spelling(
    bob: Client, emulator: Any
) -> None:
    decomposed = unicodedata.normalize("NFD", UNICODE_NAME)
    assert decomposed != UNICODE_NAME

    upload(bob, decomposed)

    assert stored_keys(emulator, bob_private()) == [
        bob_private("bob-notes.txt"),
        bob_private(UNICODE_NAME),
    ]


def test_a_unicode_name_downloads_under_its_own_name(bob: Client) -> None:
    upload(bob, UNICODE_NAME)

    response = bob.get(reverse("protected:download", args=["private", UNICODE_NAME]))

    assert response.status_code == 200
    assert response["Content-Disposition"] == f"attachment; filename*=utf-8''{quote(UNICODE_NAME)}"


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("report.txt", None),
        (UNICODE_NAME, None),
        (".env", "name_hidden"),
        ("a\\b.txt", "name_separator"),
        ("invoice\u202etxt.exe", "name_unprintable"),
        ("zero\u200bwidth.txt", "name_unprintable"),
        ("é" * 101, "name_too_long"),
        ("é" * 100, None),
        ("🙂" * 64, "name_too_long"),  # 64 characters but 256 bytes of UTF-8
    ],
)
def test_the_upload_form_refuses_only_unsafe_names(name: str, code: str | None) -> None:
    # Django's multipart parser already drops / and unprintable characters before a form sees
    # the name; the form refuses them too, so any other way in meets the same rule.
    form = UploadForm(files={"file": SimpleUploadedFile("x", b"x")})
    form.files["file"].name = name  # what a client sent, unsanitised

    assert form.is_valid() is (code is None)
    if code:
        assert form.has_error("file", code)


@pytest.mark.parametrize(
    ("name", "message"),
    [(".env", "may not start with a dot"), ("x" * 120 + ".txt", "at most 100 characters")],
)
def test_a_refused_name_says_which_rule_and_what_to_do(bob: Client, name: str, message) -> None:
    page = upload(bob, name, follow=True).text

    assert message in page and "Rename the file and upload it again." in page
    assert list(listed(bob)) == ["bob-notes.txt"]


# --- delete -------------------------------------------------------------------------------------


def test_each_private_file_has_a_delete_control_and_public_ones_none(bob: Client) -> None:
    private = bob.get("/protected/").text
    public = bob.get("/protected/", {"folder": "public"}).text

    assert private.count('data-testid="delete"') == 1
    assert 'data-testid="delete"' not in public


def test_a_user_deletes_their_own_file_after_confirming(bob: Client, emulator: Any) -> None:
    upload(bob, UNICODE_NAME)
    url = reverse("protected:delete", args=["private", UNICODE_NAME])

    confirm = bob.get(url)
    assert confirm.status_code == 200
    assert 'data-testid="delete-confirm"' in confirm.text
    assert bob_private(UNICODE_NAME) in stored_keys(
        emulator, bob_private()
    )  # asking deletes nothing

    done = bob.post(url, follow=True)

    assert done.status_code == 200
    assert f"Deleted {html.escape(UNICODE_NAME)}." in done.text
    assert stored_keys(emulator, bob_private()) == [bob_private("bob-notes.txt")]
    assert list(listed(bob)) == ["bob-notes.txt"]


@pytest.mark.parametrize(("with_token", "deleted"), [(False, False), (True, True)])
def test_a_delete_needs_the_csrf_token(sign_in, emulator: Any, with_token, deleted) -> None:
    browser = Client(enforce_csrf_checks=True)
    sign_in("bob", on=browser)
    url = reverse("protected:delete", args=["private", "bob-notes.txt"])
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', browser.get(url).text)
    assert token is not None

    response = browser.post(url, {"csrfmiddlewaretoken": token.group(1)} if with_token else {})

    assert response.status_code == (302 if deleted else 403)
    assert (bob_private("bob-notes.txt") not in stored_keys(emulator, bob_private())) is deleted


@pytest.mark.parametrize(
    ("folder", "name"), [("public", "welcome.txt"), ("protected", "team-notes.txt")]
)
def test_iam_refuses_a_delete_outside_the_own_folder(bob: Client, emulator, folder, name) -> None:
    response = bob.post(reverse("protected:delete", args=[folder, name]))

    assert response.status_code == 403
    assert "<title>Not allowed" in response.text and "Nothing was changed" in response.text
    assert f"{folder}/{name}" in stored_keys(emulator, f"{folder}/")


def test_a_read_only_role_cannot_delete_and_loses_nothing(
    client: Client, sign_in, emulator
) -> None:
    sign_in("alice")
    own = f"private/{demo_identity_id('alice')}/"
    client.post("/identity/", {"flow": "enhanced", "role": seed.READ_ONLY_ROLE})

    response = client.post(reverse("protected:delete", args=["private", "alice-notes.txt"]))

    assert response.status_code == 403
    assert "cognito-demo-read-only" in response.text
    assert stored_keys(emulator, own) == [f"{own}alice-notes.txt"]


def test_a_guest_cannot_delete(client: Client, emulator: Any, db: None) -> None:
    client.post("/identity/guest/")

    response = client.post(reverse("protected:delete", args=["public", "welcome.txt"]))

    assert response.status_code == 403
    assert "public/welcome.txt" in stored_keys(emulator, "public/")


@pytest.mark.parametrize(("name", "status"), [("../x.txt", 404), ("bob-notes.txt", 302)])
def test_a_delete_names_a_file_in_the_folder(bob: Client, name: str, status: int) -> None:
    assert bob.post(f"/protected/delete/private/{name}").status_code == status


# --- text shown in the site ---------------------------------------------------------------------


def test_an_opened_text_file_shows_in_the_site(bob: Client) -> None:
    page = bob.get("/protected/open/private/bob-notes.txt")

    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    assert "<title>bob-notes.txt ·" in page.text
    assert re.search(r'<pre data-testid="file-text">Private notes of bob', page.text)
    assert 'data-testid="file-size"' in page.text and 'data-testid="nav-files"' in page.text
    assert "Back to your files" in page.text
    assert 'href="/protected/download/private/bob-notes.txt" data-testid="download"' in page.text
    assert 'data-testid="file-truncated"' not in page.text


def test_a_text_files_markup_is_shown_not_run(bob: Client) -> None:
    upload(bob, "evil.txt", b"<script>alert(1)</script>")

    page = bob.get("/protected/open/private/evil.txt").text

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page


@pytest.mark.parametrize(("size", "truncated"), [(150 * 1024, True), (100 * 1024, False)])
def test_a_long_text_file_is_cut_and_says_so(bob: Client, emulator, size, truncated) -> None:
    put(emulator, bob_private("long.txt"), b"a" * size)

    page = bob.get("/protected/open/private/long.txt").text
    shown = re.search(r'<pre data-testid="file-text">(a*)</pre>', page)

    assert shown is not None and len(shown.group(1)) == min(size, 100 * 1024)
    assert ('data-testid="file-truncated"' in page) is truncated


@pytest.mark.parametrize(
    ("name", "body", "disposition"),
    [
        ("archive.zip", b"PK\x03\x04", "attachment"),
        ("latin1.txt", "café".encode("latin-1"), "attachment"),  # not UTF-8: not shown as text
        ("pixel.png", b"\x89PNG\r\n", "inline"),
    ],
)
def test_other_files_are_served_as_their_own_bytes(bob, emulator, name, body, disposition) -> None:
    put(emulator, bob_private(name), body)

    response = bob.get(f"/protected/open/private/{name}")

    assert response.status_code == 200
    assert response.content == body
    assert response["Content-Disposition"].startswith(disposition)
    assert "sandbox" in response["Content-Security-Policy"]


@pytest.mark.parametrize(("path", "status"), [("private/missing.txt", 404), ("secret/x.txt", 404)])
def test_a_missing_file_has_a_page_that_says_so(bob: Client, path: str, status: int) -> None:
    response = bob.get(f"/protected/open/{path}")

    assert response.status_code == status
    assert "<title>File not found" in response.text and "<h1>File not found</h1>" in response.text
    assert "Storage unavailable" not in response.text
    assert bob.get("/protected/open/private/bob-notes.txt").status_code == 200  # the twin
