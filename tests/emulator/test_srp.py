"""SRP as Cognito does it: pycognito's client against the emulator, and known-answer vectors."""

from __future__ import annotations

import base64
import datetime

import pytest
from pycognito import aws_srp

from emulator import seed, srp
from emulator.server import Emulator

from .api_flows import (
    error_of,
    initiate_password,
    initiate_srp,
    last_code,
    legacy_existence_errors,
    secret_hash,
    srp_client,
)


def test_pycognito_signs_in_with_the_right_password(idp) -> None:
    """moto gap: moto's SALT and SRP_B are random UUIDs, so no real SRP client can compute a
    proof that moto would check; here pycognito's proof is verified against bob's password."""
    tokens = srp_client(idp, "bob").authenticate_user()

    assert tokens["AuthenticationResult"]["AccessToken"]
    user = idp.get_user(AccessToken=tokens["AuthenticationResult"]["AccessToken"])
    assert user["Username"] == "bob"


def test_pycognito_with_a_wrong_password_is_refused(idp) -> None:
    """moto gap: moto accepts any PASSWORD_VERIFIER answer carrying the three keys."""
    error = error_of(srp_client(idp, "bob", "Wrong-Passw0rd!").authenticate_user)

    assert error == {"Code": "NotAuthorizedException", "Message": "Incorrect username or password."}


def test_password_verifier_challenge_parameters_are_cognitos(idp) -> None:
    """moto gap: moto's USER_ID_FOR_SRP is the sub, and its SALT changes on every call."""
    aws = srp_client(idp, "bob")
    params = aws.get_auth_params()

    first = idp.initiate_auth(
        ClientId=seed.CLIENT_ID, AuthFlow="USER_SRP_AUTH", AuthParameters=params
    )
    second = idp.initiate_auth(
        ClientId=seed.CLIENT_ID, AuthFlow="USER_SRP_AUTH", AuthParameters=params
    )

    challenge = first["ChallengeParameters"]
    assert first["ChallengeName"] == "PASSWORD_VERIFIER"
    assert challenge.keys() == {"SALT", "SECRET_BLOCK", "SRP_B", "USERNAME", "USER_ID_FOR_SRP"}
    assert challenge["USER_ID_FOR_SRP"] == challenge["USERNAME"] == "bob"
    assert challenge["SALT"] == second["ChallengeParameters"]["SALT"]
    assert challenge["SRP_B"] != second["ChallengeParameters"]["SRP_B"]
    assert int(challenge["SRP_B"], 16) % srp.N != 0
    base64.b64decode(challenge["SECRET_BLOCK"], validate=True)
    assert 20 <= len(first["Session"]) <= 2048


def test_srp_then_totp_for_alice(idp) -> None:
    step = initiate_srp(idp, "alice")

    assert step["ChallengeName"] == "SOFTWARE_TOKEN_MFA"


def test_srp_for_an_unknown_user_is_simulated_and_then_refused(idp) -> None:
    """moto gap: moto says UserNotFoundException even with PreventUserExistenceErrors ENABLED."""
    aws = srp_client(idp, "bob", "Any-Passw0rd!")
    aws.username = "nobody"
    params = aws.get_auth_params()
    params["SECRET_HASH"] = secret_hash("nobody")

    first = idp.initiate_auth(
        ClientId=seed.CLIENT_ID, AuthFlow="USER_SRP_AUTH", AuthParameters=params
    )
    again = idp.initiate_auth(
        ClientId=seed.CLIENT_ID, AuthFlow="USER_SRP_AUTH", AuthParameters=params
    )
    user_id = first["ChallengeParameters"]["USER_ID_FOR_SRP"]
    answer = aws.process_challenge(first["ChallengeParameters"], params)
    answer["SECRET_HASH"] = secret_hash(user_id)
    error = error_of(
        idp.respond_to_auth_challenge,
        ClientId=seed.CLIENT_ID,
        ChallengeName="PASSWORD_VERIFIER",
        Session=first["Session"],
        ChallengeResponses=answer,
    )

    assert first["ChallengeName"] == "PASSWORD_VERIFIER"
    assert len(user_id) == 36 and user_id.count("-") == 4
    assert first["ChallengeParameters"]["SALT"] == again["ChallengeParameters"]["SALT"]
    assert error == {"Code": "NotAuthorizedException", "Message": "Incorrect username or password."}


def test_srp_for_an_unknown_user_without_existence_protection_says_so(idp) -> None:
    legacy_existence_errors(idp)
    aws = srp_client(idp, "bob")
    aws.username = "nobody"
    params = {**aws.get_auth_params(), "SECRET_HASH": secret_hash("nobody")}

    error = error_of(
        idp.initiate_auth,
        ClientId=seed.CLIENT_ID,
        AuthFlow="USER_SRP_AUTH",
        AuthParameters=params,
    )

    assert error == {"Code": "UserNotFoundException", "Message": "User does not exist."}


def _verifier_answer(idp, username: str, timestamp: str) -> dict:
    aws = srp_client(idp, username)
    params = aws.get_auth_params()
    first = idp.initiate_auth(
        ClientId=seed.CLIENT_ID, AuthFlow="USER_SRP_AUTH", AuthParameters=params
    )
    aws.get_cognito_formatted_timestamp = lambda _now: timestamp
    return idp.respond_to_auth_challenge(
        ClientId=seed.CLIENT_ID,
        ChallengeName="PASSWORD_VERIFIER",
        Session=first["Session"],
        ChallengeResponses=aws.process_challenge(first["ChallengeParameters"], params),
    )


@pytest.mark.parametrize(
    "timestamp",
    [
        "Thu Nov  6 10:00:00 UTC 2026",  # strftime's %e: a space-padded day
        "Do Nov 26 10:00:00 UTC 2026",  # not English
        "Thu Nov 26 24:00:00 UTC 2026",  # hour 24
    ],
)
def test_a_malformed_timestamp_is_an_invalid_parameter(idp, timestamp: str) -> None:
    """moto gap: moto never looks at TIMESTAMP."""
    error = error_of(_verifier_answer, idp, "bob", timestamp)

    assert error == {
        "Code": "InvalidParameterException",
        "Message": "TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy in english.",
    }


def test_a_well_formed_timestamp_with_the_wrong_weekday_is_refused(idp) -> None:
    now = datetime.datetime.now(datetime.UTC)
    tomorrow = now + datetime.timedelta(days=1)
    wrong_weekday = f"{tomorrow:%a} {now:%b} {now.day} {now:%H:%M:%S} UTC {now.year}"

    error = error_of(_verifier_answer, idp, "bob", wrong_weekday)

    assert error == {"Code": "NotAuthorizedException", "Message": "Incorrect username or password."}


def test_a_zero_padded_day_is_refused(idp) -> None:
    padded = "Mon Jan 05 10:00:00 UTC 2026"  # well-formed, refused (and long past)

    error = error_of(_verifier_answer, idp, "bob", padded)

    assert error == {"Code": "NotAuthorizedException", "Message": "Incorrect username or password."}


def test_the_current_timestamp_in_cognitos_format_is_accepted(idp) -> None:
    result = _verifier_answer(idp, "bob", srp.format_timestamp(datetime.datetime.now(datetime.UTC)))

    assert result["AuthenticationResult"]["IdToken"]


def test_srp_follows_a_password_reset(emulator: Emulator, idp) -> None:
    """moto gap: moto's ForgotPassword sends no code and its SRP ignores the password."""
    idp.forgot_password(ClientId=seed.CLIENT_ID, Username="bob", SecretHash=secret_hash("bob"))
    idp.confirm_forgot_password(
        ClientId=seed.CLIENT_ID,
        Username="bob",
        SecretHash=secret_hash("bob"),
        ConfirmationCode=last_code(emulator, "bob@example.com"),
        Password="Bob-N3w-Passw0rd!",
    )

    assert srp_client(idp, "bob", "Bob-N3w-Passw0rd!").authenticate_user()["AuthenticationResult"]
    error = error_of(srp_client(idp, "bob").authenticate_user)
    assert error["Code"] == "NotAuthorizedException"


def test_srp_follows_an_admin_password_change(idp) -> None:
    idp.admin_set_user_password(
        UserPoolId=seed.USER_POOL_ID, Username="bob", Password="Bob-Adm1n-Set!", Permanent=True
    )

    assert srp_client(idp, "bob", "Bob-Adm1n-Set!").authenticate_user()["AuthenticationResult"]
    assert error_of(srp_client(idp, "bob").authenticate_user)["Code"] == "NotAuthorizedException"


def test_password_auth_twin_of_srp(idp) -> None:
    assert initiate_password(idp, "bob")["AuthenticationResult"]["AccessToken"]
    error = error_of(initiate_password, idp, "bob", "Wrong-Passw0rd!")
    assert error == {"Code": "NotAuthorizedException", "Message": "Incorrect username or password."}


# Known answers: the emulator's server side against pycognito's client side, fixed inputs.

FIXED_A = int("a1" * 128, 16)
FIXED_B = int("5b" * 32, 16)
SALT = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
USER_ID = "bob"
PASSWORD = "Bob-Passw0rd!"


def _pycognito_client() -> aws_srp.AWSSRP:
    client = aws_srp.AWSSRP(
        username=USER_ID,
        password=PASSWORD,
        pool_id=seed.USER_POOL_ID,
        client_id=seed.CLIENT_ID,
        client=object(),
    )
    client.small_a_value = FIXED_A
    client.large_a_value = client.calculate_a()
    return client


def test_group_constants_match_pycognito() -> None:
    client = _pycognito_client()

    assert client.big_n == srp.N
    assert client.val_g == srp.G
    assert client.val_k == srp.K
    assert srp.N.bit_length() == 3072
    assert len(bytes.fromhex(srp.pad_hex(srp.N))) == 385
    assert srp.pad_hex(2) == "02"
    for value in (1, 0x7F, 0x80, 0xFFFF, FIXED_A, srp.N - 1):
        assert srp.pad_hex(value) == aws_srp.pad_hex(value)
    assert srp.pad_hex("0abc") == aws_srp.pad_hex("0abc")


def test_session_key_and_signature_match_pycognito_for_fixed_a_and_b() -> None:
    client = _pycognito_client()
    verifier = srp.verifier(
        pool_id=seed.USER_POOL_ID, user_id=USER_ID, password=PASSWORD, salt=SALT
    )
    big_b = srp.server_b(verifier_value=verifier, small_b=FIXED_B)

    server_key = srp.server_key(
        big_a=client.large_a_value, big_b=big_b, small_b=FIXED_B, verifier_value=verifier
    )
    client_key = client.get_password_authentication_key(USER_ID, PASSWORD, big_b, SALT)

    assert srp.scramble(client.large_a_value, big_b) == aws_srp.calculate_u(
        client.large_a_value, big_b
    )
    assert server_key == bytes(client_key)
    assert len(server_key) == 16
    secret_block = base64.b64encode(b"fixed secret block").decode()
    timestamp = "Thu Nov 26 10:00:00 UTC 2026"
    message_key = srp.claim_signature(
        key=server_key,
        pool_id=seed.USER_POOL_ID,
        user_id=USER_ID,
        secret_block=secret_block,
        timestamp=timestamp,
    )
    client.get_cognito_formatted_timestamp = lambda _now: timestamp
    answer = client.process_challenge(
        {
            "USER_ID_FOR_SRP": USER_ID,
            "SALT": SALT,
            "SRP_B": format(big_b, "x"),
            "SECRET_BLOCK": secret_block,
        },
        {"USERNAME": USER_ID},
    )
    assert answer["PASSWORD_CLAIM_SIGNATURE"] == message_key


def test_hkdf_matches_pycognito() -> None:
    ikm, salt = 0x1234_5678_9ABC_DEF0, 0xFEDC_BA98
    expected = aws_srp.compute_hkdf(
        bytearray.fromhex(aws_srp.pad_hex(ikm)), bytearray.fromhex(aws_srp.pad_hex(salt))
    )

    assert srp.hkdf(shared_secret=ikm, u=salt) == bytes(expected)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (
            datetime.datetime(2026, 11, 26, 10, 0, 0, tzinfo=datetime.UTC),
            "Thu Nov 26 10:00:00 UTC 2026",
        ),
        (
            datetime.datetime(2024, 9, 3, 21, 7, 58, tzinfo=datetime.UTC),
            "Tue Sep 3 21:07:58 UTC 2024",
        ),
        (
            datetime.datetime(2025, 1, 5, 0, 0, 9, tzinfo=datetime.UTC),
            "Sun Jan 5 00:00:09 UTC 2025",
        ),
    ],
)
def test_timestamp_format_matches_pycognito(moment: datetime.datetime, expected: str) -> None:
    assert srp.format_timestamp(moment) == expected
    naive = moment.replace(tzinfo=None)
    assert aws_srp.AWSSRP.get_cognito_formatted_timestamp(naive) == expected
