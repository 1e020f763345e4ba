"""What an app does through the user pools API (boto3, real HTTP) against the emulator."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from pycognito.aws_srp import AWSSRP

from emulator import seed
from emulator.server import Emulator

USERS = {user.username: user for user in seed.DEMO_USERS}


def idp_client(emulator: Emulator) -> Any:
    """A boto3 cognito-idp client pointed at the emulator."""
    return boto3.client(
        "cognito-idp",
        endpoint_url=emulator.url,
        region_name=seed.REGION,
        aws_access_key_id=seed.ACCESS_KEY_ID,
        aws_secret_access_key=seed.SECRET_ACCESS_KEY,
    )


def secret_hash(username: str) -> str:
    message = (username + seed.CLIENT_ID).encode()
    digest = hmac.new(seed.CLIENT_SECRET.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def password_of(username: str) -> str:
    return USERS[username].password


def initiate_password(idp: Any, username: str, password: str | None = None, **extra: Any) -> dict:
    """USER_PASSWORD_AUTH (with any `extra` InitiateAuth fields): tokens or a challenge."""
    return idp.initiate_auth(
        ClientId=seed.CLIENT_ID,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={
            "USERNAME": username,
            "PASSWORD": password_of(username) if password is None else password,
            "SECRET_HASH": secret_hash(username),
        },
        **extra,
    )


def srp_client(idp: Any, username: str, password: str | None = None) -> AWSSRP:
    """pycognito's SRP client (written by others) for a demo user."""
    return AWSSRP(
        username=username,
        password=password_of(username) if password is None else password,
        pool_id=seed.USER_POOL_ID,
        client_id=seed.CLIENT_ID,
        client=idp,
        client_secret=seed.CLIENT_SECRET,
    )


def initiate_srp(idp: Any, username: str, password: str | None = None) -> dict:
    """USER_SRP_AUTH then PASSWORD_VERIFIER, computed by pycognito: tokens or the next step."""
    aws = srp_client(idp, username, password)
    auth_params = aws.get_auth_params()
    first = idp.initiate_auth(
        ClientId=seed.CLIENT_ID, AuthFlow="USER_SRP_AUTH", AuthParameters=auth_params
    )
    assert first["ChallengeName"] == "PASSWORD_VERIFIER"
    return idp.respond_to_auth_challenge(
        ClientId=seed.CLIENT_ID,
        ChallengeName="PASSWORD_VERIFIER",
        Session=first["Session"],
        ChallengeResponses=aws.process_challenge(first["ChallengeParameters"], auth_params),
    )


def respond(idp: Any, step: dict, name: str, username: str, **answers: str) -> dict:
    """Answer a challenge with the step's Session."""
    return idp.respond_to_auth_challenge(
        ClientId=seed.CLIENT_ID,
        ChallengeName=name,
        Session=step["Session"],
        ChallengeResponses={"USERNAME": username, "SECRET_HASH": secret_hash(username), **answers},
    )


def legacy_existence_errors(idp: Any) -> None:
    """Turn the demo client's PreventUserExistenceErrors off: unknown users are named as such."""
    idp.update_user_pool_client(
        UserPoolId=seed.USER_POOL_ID, ClientId=seed.CLIENT_ID, PreventUserExistenceErrors="LEGACY"
    )


def inbox(emulator: Emulator, to: str | None = None) -> list[dict]:
    """The inbox as the JSON endpoint lists it, optionally only messages to one address."""
    messages = requests.get(f"{emulator.url}/inbox.json", timeout=5).json()
    return [m for m in messages if to is None or m["to"] == to]


def last_code(emulator: Emulator, to: str) -> str:
    """The code of the newest message to this address."""
    messages = inbox(emulator, to)
    assert messages, f"no message to {to}"
    return messages[-1]["code"]


def error_of(call: Any, *args: Any, **kwargs: Any) -> dict[str, str]:
    """Call an API method that must fail; return its `Error` (Code and Message)."""
    with pytest.raises(ClientError) as raised:
        call(*args, **kwargs)
    response = raised.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return response["Error"]
