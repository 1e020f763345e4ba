"""Forged AWS signatures: an unknown key, a wrong secret, a tampered or stale request, an expired
presigned URL. The emulator refuses each as AWS does, per protocol (S3 XML, the JSON services'
`__type`, IAM/STS query XML); the account's key, minted sessions and the public operations work.
"""

from __future__ import annotations

import datetime
import re
import time
from typing import Any
from unittest import mock
from urllib.parse import parse_qsl, urlencode, urlsplit

import boto3
import pytest
import requests
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from emulator import seed
from emulator.server import Emulator
from tests.emulator.api_flows import secret_hash
from tests.emulator.identity_flows import aws_client, user_credentials

CONFIG = Config(retries={"mode": "standard", "max_attempts": 1}, signature_version="s3v4")
UNKNOWN = {"aws_access_key_id": "AKIAFORGED0000000000", "aws_secret_access_key": "forged"}
WRONG_SECRET = {"aws_access_key_id": seed.ACCESS_KEY_ID, "aws_secret_access_key": "not-it"}
ACCOUNT = {
    "aws_access_key_id": seed.ACCESS_KEY_ID,
    "aws_secret_access_key": seed.SECRET_ACCESS_KEY,
}
OBJECT_KEY = "reports/forged-sigv4.txt"


def client(emulator: Emulator, service: str, keys: dict[str, str], **config: Any) -> Any:
    return boto3.client(
        service,
        endpoint_url=emulator.url,
        region_name=seed.REGION,
        config=CONFIG.merge(Config(**config)) if config else CONFIG,
        **keys,
    )


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def s3_refusal(url: str) -> tuple[int, str]:
    """GET a presigned URL: the status and S3's error `<Code>`."""
    answer = requests.get(url, timeout=10)
    found = re.search(r"<Code>([^<]*)</Code>", answer.text)
    return answer.status_code, found.group(1) if found else ""


@pytest.fixture
def stored_object(emulator: Emulator) -> str:
    client(emulator, "s3", ACCOUNT).put_object(Bucket=seed.BUCKET, Key=OBJECT_KEY, Body=b"x")
    return OBJECT_KEY


# S3, header-signed.


def test_s3_refuses_an_unknown_access_key(emulator: Emulator) -> None:
    with pytest.raises(ClientError) as excinfo:
        client(emulator, "s3", UNKNOWN).list_objects_v2(Bucket=seed.BUCKET)
    assert error_of(excinfo) == ("InvalidAccessKeyId", 403)
    assert excinfo.value.response["Error"]["Message"] == (
        "The AWS Access Key Id you provided does not exist in our records."
    )


def test_s3_refuses_the_account_key_with_a_wrong_secret(emulator: Emulator) -> None:
    with pytest.raises(ClientError) as excinfo:
        client(emulator, "s3", WRONG_SECRET).put_object(Bucket=seed.BUCKET, Key="a", Body=b"x")
    assert error_of(excinfo) == ("SignatureDoesNotMatch", 403)
    assert "a" not in [
        item["Key"]
        for item in client(emulator, "s3", ACCOUNT)
        .list_objects_v2(Bucket=seed.BUCKET)
        .get("Contents", [])
    ]


def test_s3_accepts_the_account_key(emulator: Emulator, stored_object: str) -> None:
    body = client(emulator, "s3", ACCOUNT).get_object(Bucket=seed.BUCKET, Key=stored_object)
    assert body["Body"].read() == b"x"


def test_s3_refuses_a_request_signed_twenty_minutes_ago(emulator: Emulator) -> None:
    past = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) - datetime.timedelta(minutes=20)
    s3 = client(emulator, "s3", ACCOUNT)
    clock = mock.patch("botocore.auth.get_current_datetime", return_value=past)
    with clock, pytest.raises(ClientError) as excinfo:
        s3.list_objects_v2(Bucket=seed.BUCKET)
    assert error_of(excinfo) == ("RequestTimeTooSkewed", 403)


# S3, presigned URLs (query-string SigV4).


def presigned(emulator: Emulator, keys: dict[str, str], key: str, expires: int = 60) -> str:
    return client(emulator, "s3", keys).generate_presigned_url(
        "get_object", Params={"Bucket": seed.BUCKET, "Key": key}, ExpiresIn=expires
    )


def with_params(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    params.update(changes)
    return parts._replace(query=urlencode(params)).geturl()


def test_a_presigned_url_of_the_account_key_works(emulator: Emulator, stored_object: str) -> None:
    answer = requests.get(presigned(emulator, ACCOUNT, stored_object), timeout=10)
    assert answer.status_code == 200
    assert answer.content == b"x"


def test_a_presigned_url_of_an_unknown_key_is_refused(
    emulator: Emulator, stored_object: str
) -> None:
    assert s3_refusal(presigned(emulator, UNKNOWN, stored_object)) == (403, "InvalidAccessKeyId")


def test_a_presigned_url_with_a_wrong_secret_is_refused(
    emulator: Emulator, stored_object: str
) -> None:
    url = presigned(emulator, WRONG_SECRET, stored_object)
    assert s3_refusal(url) == (403, "SignatureDoesNotMatch")


def test_an_expired_presigned_url_is_refused(emulator: Emulator, stored_object: str) -> None:
    url = presigned(emulator, ACCOUNT, stored_object, expires=1)
    time.sleep(2.1)
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 403
    assert "<Code>AccessDenied</Code>" in answer.text
    assert "Request has expired" in answer.text


def test_a_presigned_url_whose_expiry_was_stretched_is_refused(
    emulator: Emulator, stored_object: str
) -> None:
    url = with_params(
        presigned(emulator, ACCOUNT, stored_object, expires=1), **{"X-Amz-Expires": "3600"}
    )
    assert s3_refusal(url) == (403, "SignatureDoesNotMatch")


def test_a_presigned_url_moved_to_another_object_is_refused(
    emulator: Emulator, stored_object: str
) -> None:
    client(emulator, "s3", ACCOUNT).put_object(Bucket=seed.BUCKET, Key="secret.txt", Body=b"s")
    url = presigned(emulator, ACCOUNT, stored_object)
    moved = url.replace(stored_object, "secret.txt")
    assert s3_refusal(moved) == (403, "SignatureDoesNotMatch")


def test_a_presigned_url_for_more_than_a_week_is_refused(
    emulator: Emulator, stored_object: str
) -> None:
    url = with_params(presigned(emulator, ACCOUNT, stored_object), **{"X-Amz-Expires": "604801"})
    assert s3_refusal(url) == (400, "AuthorizationQueryParametersError")


# The user pools API (JSON): admin operations need the account's key; public ones need none.


def test_user_pool_admin_calls_refuse_an_unknown_key(emulator: Emulator) -> None:
    idp = client(emulator, "cognito-idp", UNKNOWN)
    for call in (
        lambda: idp.admin_get_user(UserPoolId=seed.USER_POOL_ID, Username="bob"),  # moto's
        lambda: idp.admin_initiate_auth(  # the emulator's own
            UserPoolId=seed.USER_POOL_ID,
            ClientId=seed.CLIENT_ID,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "bob", "PASSWORD": "Bob-Passw0rd!"},
        ),
        lambda: idp.admin_create_user(UserPoolId=seed.USER_POOL_ID, Username="mallory"),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_of(excinfo) == ("UnrecognizedClientException", 400)
        assert excinfo.value.response["Error"]["Message"] == (
            "The security token included in the request is invalid."
        )
    with pytest.raises(ClientError):
        client(emulator, "cognito-idp", ACCOUNT).admin_get_user(
            UserPoolId=seed.USER_POOL_ID, Username="mallory"
        )


def test_user_pool_admin_calls_refuse_a_wrong_secret(emulator: Emulator) -> None:
    with pytest.raises(ClientError) as excinfo:
        client(emulator, "cognito-idp", WRONG_SECRET).admin_disable_user(
            UserPoolId=seed.USER_POOL_ID, Username="bob"
        )
    assert error_of(excinfo) == ("InvalidSignatureException", 400)
    user = client(emulator, "cognito-idp", ACCOUNT).admin_get_user(
        UserPoolId=seed.USER_POOL_ID, Username="bob"
    )
    assert user["Enabled"] is True


def test_user_pool_admin_calls_refuse_an_unsigned_request(emulator: Emulator) -> None:
    idp = client(emulator, "cognito-idp", ACCOUNT, signature_version=UNSIGNED)
    with pytest.raises(ClientError) as excinfo:
        idp.list_users(UserPoolId=seed.USER_POOL_ID)
    assert error_of(excinfo) == ("MissingAuthenticationTokenException", 403)


def test_user_pool_admin_calls_accept_the_account_key(emulator: Emulator) -> None:
    users = client(emulator, "cognito-idp", ACCOUNT).list_users(UserPoolId=seed.USER_POOL_ID)
    assert "bob" in [user["Username"] for user in users["Users"]]


def test_public_sign_in_needs_no_key_at_all(emulator: Emulator) -> None:
    idp = client(emulator, "cognito-idp", UNKNOWN, signature_version=UNSIGNED)
    answer = idp.initiate_auth(
        ClientId=seed.CLIENT_ID,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={
            "USERNAME": "bob",
            "PASSWORD": "Bob-Passw0rd!",
            "SECRET_HASH": secret_hash("bob"),
        },
    )
    assert answer["AuthenticationResult"]["AccessToken"]


def test_a_user_pool_admin_call_with_identity_credentials_is_denied(emulator: Emulator) -> None:
    credentials = user_credentials(emulator, "bob")["Credentials"]
    with pytest.raises(ClientError) as excinfo:
        aws_client(emulator, "cognito-idp", credentials).list_users(UserPoolId=seed.USER_POOL_ID)
    assert error_of(excinfo) == ("AccessDeniedException", 400)
    who = aws_client(emulator, "sts", credentials).get_caller_identity()
    assert ":assumed-role/" in who["Arn"]


# cognito-identity (JSON): developer and admin operations signed, GetId public.


def test_identity_pool_admin_calls_refuse_an_unknown_key(emulator: Emulator) -> None:
    identity = client(emulator, "cognito-identity", UNKNOWN)
    with pytest.raises(ClientError) as excinfo:
        identity.get_identity_pool_roles(IdentityPoolId=seed.IDENTITY_POOL_ID)
    assert error_of(excinfo) == ("UnrecognizedClientException", 400)
    with pytest.raises(ClientError) as excinfo:
        identity.list_identity_pools(MaxResults=10)
    assert error_of(excinfo) == ("UnrecognizedClientException", 400)
    roles = client(emulator, "cognito-identity", ACCOUNT).get_identity_pool_roles(
        IdentityPoolId=seed.IDENTITY_POOL_ID
    )
    assert roles["IdentityPoolId"] == seed.IDENTITY_POOL_ID


def test_get_id_needs_no_key(emulator: Emulator) -> None:
    identity = client(emulator, "cognito-identity", UNKNOWN, signature_version=UNSIGNED)
    answer = identity.get_id(IdentityPoolId=seed.IDENTITY_POOL_ID)
    assert answer["IdentityId"].startswith(f"{seed.REGION}:")


# IAM and STS (query protocol).


def test_iam_and_sts_refuse_an_unknown_key(emulator: Emulator) -> None:
    with pytest.raises(ClientError) as excinfo:
        client(emulator, "iam", UNKNOWN).list_roles()
    assert error_of(excinfo) == ("InvalidClientTokenId", 403)
    with pytest.raises(ClientError) as excinfo:
        client(emulator, "sts", UNKNOWN).get_caller_identity()
    assert error_of(excinfo) == ("InvalidClientTokenId", 403)


def test_iam_refuses_a_wrong_secret(emulator: Emulator) -> None:
    with pytest.raises(ClientError) as excinfo:
        client(emulator, "iam", WRONG_SECRET).create_role(
            RoleName="forged", AssumeRolePolicyDocument="{}"
        )
    assert error_of(excinfo) == ("SignatureDoesNotMatch", 403)
    roles = client(emulator, "iam", ACCOUNT).list_roles()["Roles"]
    assert "forged" not in [role["RoleName"] for role in roles]


def test_iam_refuses_an_unsigned_request(emulator: Emulator) -> None:
    with pytest.raises(ClientError) as excinfo:
        client(emulator, "iam", ACCOUNT, signature_version=UNSIGNED).list_roles()
    assert error_of(excinfo) == ("MissingAuthenticationToken", 403)


def test_iam_and_sts_accept_the_account_key(emulator: Emulator) -> None:
    assert client(emulator, "iam", ACCOUNT).list_roles()["Roles"]
    assert client(emulator, "sts", ACCOUNT).get_caller_identity()["Account"] == seed.ACCOUNT_ID


def test_iam_denies_identity_credentials(emulator: Emulator) -> None:
    credentials = user_credentials(emulator, "bob")["Credentials"]
    with pytest.raises(ClientError) as excinfo:
        aws_client(emulator, "iam", credentials).list_roles()
    assert error_of(excinfo) == ("AccessDenied", 403)


# S3 without a signature, or with a mechanism the emulator does not verify (SigV2).


def test_s3_refuses_anonymous_writes_and_listings(emulator: Emulator) -> None:
    anonymous = client(emulator, "s3", ACCOUNT, signature_version=UNSIGNED)
    for call in (
        lambda: anonymous.create_bucket(Bucket="anonymous-bucket"),
        lambda: anonymous.list_buckets(),
        lambda: anonymous.put_object(Bucket=seed.BUCKET, Key="anonymous.txt", Body=b"x"),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_of(excinfo) == ("AccessDenied", 403)
    buckets = client(emulator, "s3", ACCOUNT).list_buckets()["Buckets"]
    assert "anonymous-bucket" not in [bucket["Name"] for bucket in buckets]


def test_s3_refuses_a_signature_v2_header(emulator: Emulator) -> None:
    answer = requests.put(
        f"{emulator.url}/sigv2-bucket",
        headers={"Authorization": f"AWS {seed.ACCESS_KEY_ID}:bm90LWNoZWNrZWQ="},
        timeout=10,
    )
    assert answer.status_code == 400
    assert "<Code>InvalidRequest</Code>" in answer.text


def test_s3_lets_the_account_key_create_a_bucket(emulator: Emulator) -> None:
    s3 = client(emulator, "s3", ACCOUNT)
    s3.create_bucket(Bucket="account-bucket")
    assert "account-bucket" in [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]]


def test_a_malformed_authorization_header_is_an_incomplete_signature(emulator: Emulator) -> None:
    malformed = {"Authorization": "AWS4-HMAC-SHA256 Credential=testing/garbage"}
    admin = requests.post(
        emulator.url,
        headers={
            **malformed,
            "X-Amz-Target": "AWSCognitoIdentityProviderService.ListUsers",
            "Content-Type": "application/x-amz-json-1.1",
        },
        data=f'{{"UserPoolId": "{seed.USER_POOL_ID}"}}',
        timeout=10,
    )
    iam_call = requests.post(
        emulator.url,
        headers={**malformed, "Content-Type": "application/x-www-form-urlencoded"},
        data="Action=ListRoles&Version=2010-05-08",
        timeout=10,
    )
    assert (admin.status_code, admin.json()["__type"]) == (400, "IncompleteSignatureException")
    assert iam_call.status_code == 400
    assert "<Code>IncompleteSignature</Code>" in iam_call.text
