"""The protected page in a browser: sign in, see your own files, upload one; guests see less."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from emulator.seed import DEMO_USERS
from emulator.server import Emulator
from emulator.storage_world import demo_identity_id

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BOB = next(user for user in DEMO_USERS if user.username == "bob")


def test_bob_sees_his_own_files_and_uploads_one(
    page: Page, site: str, emulator: Emulator, tmp_path: Path
) -> None:
    page.goto(f"{site}/protected/")  # not signed in: managed login, then back here
    page.wait_for_url(f"{emulator.url}/**")
    page.get_by_test_id("username").fill(BOB.username)
    page.get_by_test_id("password").fill(BOB.password)
    page.get_by_test_id("submit").click()

    page.wait_for_url(f"{site}/protected/**")
    expect(page.get_by_test_id("s3-object")).to_have_text(["bob-notes.txt"])

    upload = tmp_path / "holiday.txt"
    upload.write_text("two weeks in August\n")
    page.locator("input[type=file]").set_input_files(upload)
    page.get_by_test_id("upload").click()

    expect(page.get_by_test_id("s3-object")).to_have_text(["bob-notes.txt", "holiday.txt"])
    page.get_by_role("link", name="holiday.txt", exact=True).click()
    expect(page.locator("body")).to_contain_text("two weeks in August")

    page.goto(f"{site}/identity/")
    expect(page.get_by_test_id("identity-id")).to_have_text(demo_identity_id("bob"))
    expect(page.get_by_test_id("identity-role")).to_have_text("cognito-demo-authenticated")


def test_a_guest_sees_only_the_public_files(page: Page, site: str, emulator: Emulator) -> None:
    page.goto(f"{site}/")
    page.get_by_test_id("guest-link").click()
    page.get_by_test_id("continue-as-guest").click()

    page.wait_for_url(f"{site}/protected/**")
    expect(page.get_by_test_id("s3-object")).to_have_text(["guide.txt", "welcome.txt"])
    expect(page.get_by_test_id("upload")).to_have_count(0)

    page.get_by_test_id("folder-private").click()
    expect(page.get_by_test_id("error")).to_contain_text("does not allow")


def test_bob_reads_a_text_file_in_the_site_and_deletes_it(
    page: Page, site: str, emulator: Emulator, tmp_path: Path
) -> None:
    page.goto(f"{site}/protected/")
    page.wait_for_url(f"{emulator.url}/**")
    page.get_by_test_id("username").fill(BOB.username)
    page.get_by_test_id("password").fill(BOB.password)
    page.get_by_test_id("submit").click()
    page.wait_for_url(f"{site}/protected/**")
    expect(page.get_by_test_id("upload-limit")).to_contain_text("1 MB")

    upload = tmp_path / "héllo wörld.txt"
    upload.write_text("<b>été</b> in Lyon\n")
    page.locator("input[type=file]").set_input_files(upload)
    page.get_by_test_id("upload").click()
    expect(page.get_by_test_id("s3-object")).to_have_text(["bob-notes.txt", "héllo wörld.txt"])

    page.get_by_role("link", name="héllo wörld.txt", exact=True).click()
    expect(page).to_have_title("héllo wörld.txt · Cognito reference app")
    expect(page.get_by_test_id("file-text")).to_have_text("<b>été</b> in Lyon\n")
    expect(page.get_by_test_id("site-header")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_test_id("download").click()
    assert download.value.suggested_filename == "héllo wörld.txt"
    page.get_by_test_id("back-to-files").click()

    page.get_by_role("link", name="Delete héllo wörld.txt").click()
    expect(page.get_by_test_id("delete-name")).to_have_text("héllo wörld.txt")
    page.get_by_test_id("delete-confirm").click()

    expect(page.get_by_test_id("messages")).to_contain_text("Deleted héllo wörld.txt.")
    expect(page.get_by_test_id("s3-object")).to_have_text(["bob-notes.txt"])
