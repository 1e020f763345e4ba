"""Attack: send non-ASCII characters where the emulator compares a secret in constant time.

`hmac.compare_digest` raises TypeError for a `str` with non-ASCII characters: every comparison
of something a client sent compares bytes, so such input is a wrong answer, never a crash.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator import seed
from tests.accounts.conftest import USERS
from tests.emulator.api_flows import idp_client


@pytest.fixture
def idp(emulator: Any) -> Any:
    return idp_client(emulator)


def mfa_challenge(idp: Any, username: str) -> dict[str, Any]:
    from signin.services import secret_hash

    user = USERS[username]
    return idp.admin_initiate_auth(
        UserPoolId=seed.USER_POOL_ID,
        ClientId=seed.CLIENT_ID,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={
            "USERNAME": username,
            "PASSWORD": user.password,
            "SECRET_HASH": secret_hash(username),
        },
    )


def answer(idp: Any, challenge: dict[str, Any], code: str) -> dict[str, Any]:
    from signin.services import secret_hash

    return idp.admin_respond_to_auth_challenge(
        UserPoolId=seed.USER_POOL_ID,
        ClientId=seed.CLIENT_ID,
        ChallengeName=challenge["ChallengeName"],
        Session=challenge["Session"],
        ChallengeResponses={
            "USERNAME": "alice",
            "SOFTWARE_TOKEN_MFA_CODE": code,
            "SECRET_HASH": secret_hash("alice"),
        },
    )


def test_a_totp_code_of_non_ascii_digits_is_a_wrong_code(emulator: Any, idp: Any) -> None:
    challenge = mfa_challenge(idp, "alice")

    with pytest.raises(ClientError) as refused:
        answer(idp, challenge, "١٢٣٤٥٦")  # six Arabic-Indic digits: str.isdigit() is True

    assert refused.value.response["Error"]["Code"] == "CodeMismatchException"


def test_the_right_totp_code_still_signs_in(emulator: Any, idp: Any) -> None:
    import pyotp

    challenge = mfa_challenge(idp, "alice")
    answered = answer(idp, challenge, pyotp.TOTP(USERS["alice"].totp_secret).now())

    assert "AccessToken" in answered["AuthenticationResult"]
