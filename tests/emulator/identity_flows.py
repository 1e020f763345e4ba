"""What an app does with the identity pool, STS and S3 of the emulator, through boto3 over HTTP."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from emulator import seed
from emulator.server import Emulator

from .flows import signed_in_tokens

PROVIDER = f"cognito-idp.{seed.REGION}.amazonaws.com/{seed.USER_POOL_ID}"
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 1}, signature_version="s3v4")


def aws_client(emulator: Emulator, service: str, credentials: dict[str, str] | None = None) -> Any:
    """A client of the emulator: the account's own keys, or an identity's temporary ones."""
    keys = {
        "aws_access_key_id": seed.ACCESS_KEY_ID,
        "aws_secret_access_key": seed.SECRET_ACCESS_KEY,
    }
    if credentials is not None:
        keys = {
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials.get("SecretKey") or credentials["SecretAccessKey"],
            "aws_session_token": credentials["SessionToken"],
        }
    return boto3.client(
        service, endpoint_url=emulator.url, region_name=seed.REGION, config=_CONFIG, **keys
    )


def id_token(emulator: Emulator, username: str = "bob") -> str:
    return signed_in_tokens(emulator, username)["id_token"]


def logins(token: str, key: str = PROVIDER) -> dict[str, str]:
    return {key: token}


def user_credentials(
    emulator: Emulator, username: str = "bob", *, token: str | None = None, **extra: Any
) -> dict[str, Any]:
    """The enhanced flow for a demo user: GetId, then GetCredentialsForIdentity."""
    identity = aws_client(emulator, "cognito-identity")
    token = token or id_token(emulator, username)
    identity_id = identity.get_id(IdentityPoolId=seed.IDENTITY_POOL_ID, Logins=logins(token))[
        "IdentityId"
    ]
    return identity.get_credentials_for_identity(
        IdentityId=identity_id, Logins=logins(token), **extra
    )


def guest_credentials(emulator: Emulator) -> dict[str, Any]:
    identity = aws_client(emulator, "cognito-identity")
    identity_id = identity.get_id(IdentityPoolId=seed.IDENTITY_POOL_ID)["IdentityId"]
    return identity.get_credentials_for_identity(IdentityId=identity_id)


def s3_as(emulator: Emulator, answer: dict[str, Any]) -> Any:
    """An S3 client signing with the credentials of a GetCredentialsForIdentity answer."""
    return aws_client(emulator, "s3", answer["Credentials"])


def error_code(error: Exception) -> str:
    return error.response["Error"]["Code"]  # type: ignore[attr-defined]
