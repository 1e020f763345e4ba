"""S3 that enforces IAM for identity-pool credentials: signatures, sessions, the role's policies.

Against plain moto every refusal here passes through: moto's S3 accepts any signature and any
credentials and never evaluates a policy.
"""

from __future__ import annotations

import pytest
import requests
from botocore.exceptions import ClientError

from emulator import seed
from emulator.server import Emulator
from emulator.storage_world import demo_identity_id

from .identity_flows import (
    aws_client,
    error_code,
    guest_credentials,
    id_token,
    s3_as,
    user_credentials,
)

BOB = demo_identity_id("bob")
CAROL = demo_identity_id("carol")


def keys(s3, prefix: str) -> list[str]:
    return [
        item["Key"]
        for item in s3.list_objects_v2(Bucket=seed.BUCKET, Prefix=prefix).get("Contents", [])
    ]


def denied(call) -> str:
    with pytest.raises(ClientError) as refused:
        call()
    return error_code(refused.value)


@pytest.fixture
def bob(emulator: Emulator):
    return s3_as(emulator, user_credentials(emulator, "bob"))


@pytest.fixture
def guest(emulator: Emulator):
    return s3_as(emulator, guest_credentials(emulator))


def test_a_user_reads_their_own_private_folder_and_not_anothers(bob) -> None:
    assert keys(bob, f"private/{BOB}/") == [f"private/{BOB}/bob-notes.txt"]
    assert bob.get_object(Bucket=seed.BUCKET, Key=f"private/{BOB}/bob-notes.txt")["Body"].read()

    assert denied(lambda: keys(bob, f"private/{CAROL}/")) == "AccessDenied"
    assert (
        denied(lambda: bob.get_object(Bucket=seed.BUCKET, Key=f"private/{CAROL}/carol-notes.txt"))
        == "AccessDenied"
    )


def test_a_user_uploads_into_their_own_folder_only(bob) -> None:
    bob.put_object(Bucket=seed.BUCKET, Key=f"private/{BOB}/new.txt", Body=b"mine")

    assert (
        denied(
            lambda: bob.put_object(Bucket=seed.BUCKET, Key=f"private/{CAROL}/new.txt", Body=b"x")
        )
        == "AccessDenied"
    )
    assert (
        denied(lambda: bob.put_object(Bucket=seed.BUCKET, Key="public/new.txt", Body=b"x"))
        == "AccessDenied"
    )
    assert f"private/{BOB}/new.txt" in keys(bob, f"private/{BOB}/")


def test_users_read_public_and_protected(bob) -> None:
    assert "public/welcome.txt" in keys(bob, "public/")
    assert keys(bob, "protected/") == ["protected/team-notes.txt"]


def test_a_guest_reads_public_only(guest) -> None:
    assert keys(guest, "public/") == ["public/guide.txt", "public/welcome.txt"]
    assert guest.get_object(Bucket=seed.BUCKET, Key="public/welcome.txt")["Body"].read()

    assert denied(lambda: keys(guest, "private/")) == "AccessDenied"
    assert denied(lambda: keys(guest, f"private/{BOB}/")) == "AccessDenied"
    assert denied(lambda: keys(guest, "protected/")) == "AccessDenied"
    assert (
        denied(lambda: guest.get_object(Bucket=seed.BUCKET, Key=f"private/{BOB}/bob-notes.txt"))
        == "AccessDenied"
    )


def test_listing_the_whole_bucket_is_denied_listing_a_prefix_is_not(bob) -> None:
    assert denied(lambda: bob.list_objects_v2(Bucket=seed.BUCKET)) == "AccessDenied"
    assert keys(bob, "public/")


def test_the_read_only_role_reads_but_cannot_upload(emulator: Emulator) -> None:
    token = id_token(emulator, "alice")
    s3 = s3_as(emulator, user_credentials(emulator, token=token, CustomRoleArn=seed.READ_ONLY_ROLE))
    alice = demo_identity_id("alice")

    assert keys(s3, f"private/{alice}/") == [f"private/{alice}/alice-notes.txt"]
    assert (
        denied(lambda: s3.put_object(Bucket=seed.BUCKET, Key=f"private/{alice}/x.txt", Body=b"x"))
        == "AccessDenied"
    )


def test_expired_credentials_are_refused(emulator: Emulator) -> None:
    answer = user_credentials(emulator)
    s3 = s3_as(emulator, answer)
    assert keys(s3, "public/")

    emulator.state.sessions.expire(answer["Credentials"]["AccessKeyId"])

    assert denied(lambda: keys(s3, "public/")) == "ExpiredToken"


def test_unknown_temporary_credentials_are_refused(emulator: Emulator) -> None:
    made_up = {
        "AccessKeyId": "ASIAMADEUP000000000",
        "SecretKey": "x" * 40,
        "SessionToken": "y" * 40,
    }

    assert (
        denied(lambda: keys(aws_client(emulator, "s3", made_up), "public/")) == "InvalidAccessKeyId"
    )
    assert keys(s3_as(emulator, user_credentials(emulator)), "public/")


def test_a_wrong_secret_or_session_token_is_refused(emulator: Emulator) -> None:
    credentials = user_credentials(emulator)["Credentials"]
    wrong_secret = {**credentials, "SecretKey": "not-the-secret" * 3}
    wrong_token = {**credentials, "SessionToken": credentials["SessionToken"][:-4] + "AAAA"}

    assert denied(lambda: keys(aws_client(emulator, "s3", wrong_secret), "public/")) == (
        "SignatureDoesNotMatch"
    )
    assert (
        denied(lambda: keys(aws_client(emulator, "s3", wrong_token), "public/")) == "InvalidToken"
    )
    assert keys(aws_client(emulator, "s3", credentials), "public/")


def test_an_anonymous_request_is_denied(emulator: Emulator) -> None:
    response = requests.get(f"{emulator.url}/{seed.BUCKET}/public/welcome.txt", timeout=5)

    assert response.status_code == 403
    assert "<Code>AccessDenied</Code>" in response.text
    assert (
        s3_as(emulator, guest_credentials(emulator))
        .get_object(Bucket=seed.BUCKET, Key="public/welcome.txt")["Body"]
        .read()
    )


def test_presigned_urls_are_checked_like_signed_requests(bob) -> None:
    params = {"Bucket": seed.BUCKET, "Key": f"private/{BOB}/bob-notes.txt"}
    good = bob.generate_presigned_url("get_object", Params=params, ExpiresIn=60)
    other = bob.generate_presigned_url(
        "get_object", Params={**params, "Key": f"private/{CAROL}/carol-notes.txt"}, ExpiresIn=60
    )
    tampered = good.replace("bob-notes.txt", "bob-notes.txt%20")

    assert requests.get(good, timeout=5).text.startswith("Private notes of bob")
    assert requests.get(other, timeout=5).status_code == 403
    assert "SignatureDoesNotMatch" in requests.get(tampered, timeout=5).text


def test_the_accounts_own_keys_are_not_limited_by_identity_policies(emulator: Emulator) -> None:
    admin = aws_client(emulator, "s3")

    assert len(keys(admin, "private/")) == len(seed.DEMO_USERS)
