"""Identity pools for real: logins validated, stable identity IDs, roles chosen, credentials minted.

Each refusal has its accepting twin beside it. Against plain moto every refusal here passes
(moto never looks at Logins) and GetOpenIdToken is not a JWT.
"""

from __future__ import annotations

import time

import boto3
import jwt
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from emulator import seed
from emulator.server import Emulator
from emulator.storage_world import demo_identity_id

from .identity_flows import (
    PROVIDER,
    aws_client,
    error_code,
    guest_credentials,
    id_token,
    logins,
    user_credentials,
)


@pytest.fixture
def cognito_identity(emulator: Emulator):
    return aws_client(emulator, "cognito-identity")


def get_id(client, token: str | None = None, key: str = PROVIDER) -> str:
    params = {"IdentityPoolId": seed.IDENTITY_POOL_ID}
    if token is not None:
        params["Logins"] = {key: token}
    return client.get_id(**params)["IdentityId"]


def forge(token: str, **changes) -> str:
    """The same claims signed by a key that is not the pool's."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    claims = {**jwt.decode(token, options={"verify_signature": False}), **changes}
    header = jwt.get_unverified_header(token)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": header["kid"]})


def test_the_same_user_gets_the_same_identity_id_every_time(emulator, cognito_identity) -> None:
    first = get_id(cognito_identity, id_token(emulator, "bob"))
    second = get_id(cognito_identity, id_token(emulator, "bob"))

    assert first == second == demo_identity_id("bob")


def test_two_users_get_two_identity_ids(emulator, cognito_identity) -> None:
    assert get_id(cognito_identity, id_token(emulator, "bob")) != get_id(
        cognito_identity, id_token(emulator, "carol")
    )


def test_the_local_issuer_logins_key_names_the_same_identity(emulator, cognito_identity) -> None:
    token = id_token(emulator)
    local_key = emulator.issuer.split("://", 1)[1]

    assert get_id(cognito_identity, token, key=local_key) == get_id(cognito_identity, token)


def test_a_forged_token_is_refused_and_the_real_one_accepted(emulator, cognito_identity) -> None:
    token = id_token(emulator)

    with pytest.raises(ClientError) as refused:
        get_id(cognito_identity, forge(token))

    assert error_code(refused.value) == "NotAuthorizedException"
    assert get_id(cognito_identity, token) == demo_identity_id("bob")


def test_a_foreign_clients_token_is_refused(emulator, cognito_identity) -> None:
    token = id_token(emulator)
    foreign = emulator.state.tokens.sign(
        {**jwt.decode(token, options={"verify_signature": False}), "aud": "someotherclient1"},
        token_use="id",
    )

    with pytest.raises(ClientError) as refused:
        get_id(cognito_identity, foreign)

    assert "audience" in refused.value.response["Error"]["Message"]
    assert get_id(cognito_identity, token)


def test_a_token_of_another_issuer_is_refused(emulator, cognito_identity) -> None:
    token = id_token(emulator)
    claims = jwt.decode(token, options={"verify_signature": False})
    other = emulator.state.tokens.sign(
        {**claims, "iss": "https://example.com/pool"}, token_use="id"
    )

    with pytest.raises(ClientError) as refused:
        get_id(cognito_identity, other)

    assert "Issuer" in refused.value.response["Error"]["Message"]
    assert get_id(cognito_identity, emulator.state.tokens.sign(claims, token_use="id"))


def test_an_expired_token_is_refused(emulator, cognito_identity) -> None:
    token = id_token(emulator)
    claims = jwt.decode(token, options={"verify_signature": False})
    expired = emulator.state.tokens.sign(
        {**claims, "iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600}, token_use="id"
    )

    with pytest.raises(ClientError) as refused:
        get_id(cognito_identity, expired)

    assert "expired" in refused.value.response["Error"]["Message"]
    assert get_id(cognito_identity, token) == demo_identity_id("bob")


def test_an_access_token_is_not_a_login(emulator, cognito_identity) -> None:
    from .flows import signed_in_tokens

    tokens = signed_in_tokens(emulator)

    with pytest.raises(ClientError):
        get_id(cognito_identity, tokens["access_token"])
    assert get_id(cognito_identity, tokens["id_token"])


def test_an_unknown_provider_key_is_refused(emulator, cognito_identity) -> None:
    token = id_token(emulator)

    with pytest.raises(ClientError) as refused:
        get_id(cognito_identity, token, key="accounts.google.com")

    assert error_code(refused.value) == "NotAuthorizedException"
    assert get_id(cognito_identity, token, key=PROVIDER) == demo_identity_id("bob")


def test_guests_get_identities_only_where_the_pool_allows_them(emulator, cognito_identity) -> None:
    assert get_id(cognito_identity).startswith(f"{seed.REGION}:")

    cognito_identity.update_identity_pool(
        IdentityPoolId=seed.IDENTITY_POOL_ID,
        IdentityPoolName=seed.IDENTITY_POOL_NAME,
        AllowUnauthenticatedIdentities=False,
    )
    with pytest.raises(ClientError) as refused:
        get_id(cognito_identity)

    assert error_code(refused.value) == "NotAuthorizedException"
    assert get_id(cognito_identity, id_token(emulator))  # users still get identities


def test_credentials_need_a_login_of_the_identity(emulator, cognito_identity) -> None:
    bob, carol = id_token(emulator, "bob"), id_token(emulator, "carol")
    bobs_identity = get_id(cognito_identity, bob)

    with pytest.raises(ClientError) as refused:
        cognito_identity.get_credentials_for_identity(
            IdentityId=bobs_identity, Logins=logins(carol)
        )
    with pytest.raises(ClientError):
        cognito_identity.get_credentials_for_identity(IdentityId=bobs_identity)
    answer = cognito_identity.get_credentials_for_identity(
        IdentityId=bobs_identity, Logins=logins(bob)
    )

    assert "Logins don't match" in refused.value.response["Error"]["Message"]
    assert answer["IdentityId"] == bobs_identity
    assert answer["Credentials"]["SessionToken"] != "ABC12345"  # moto's fixed fake


def caller_role(emulator: Emulator, answer: dict) -> str:
    sts = aws_client(emulator, "sts", answer["Credentials"])
    return sts.get_caller_identity()["Arn"].split("/")[1]


def test_default_and_guest_roles(emulator) -> None:
    assert caller_role(emulator, user_credentials(emulator, "bob")) == "cognito-demo-authenticated"
    assert caller_role(emulator, guest_credentials(emulator)) == "cognito-demo-guest"


def test_token_based_role_honours_the_preferred_role_and_a_permitted_custom_role(emulator) -> None:
    token = id_token(emulator, "alice")  # one sign-in: alice's TOTP codes are single-use
    claims = jwt.decode(token, options={"verify_signature": False})

    preferred = user_credentials(emulator, token=token)
    picked = user_credentials(emulator, token=token, CustomRoleArn=seed.READ_ONLY_ROLE)

    assert claims["cognito:preferred_role"] == seed.AUTHENTICATED_ROLE
    assert caller_role(emulator, preferred) == "cognito-demo-authenticated"
    assert caller_role(emulator, picked) == "cognito-demo-read-only"


def test_a_custom_role_outside_the_token_is_denied(emulator) -> None:
    token = id_token(emulator, "bob")

    with pytest.raises(ClientError) as refused:
        user_credentials(emulator, token=token, CustomRoleArn=seed.READ_ONLY_ROLE)

    assert error_code(refused.value) == "NotAuthorizedException"
    assert caller_role(emulator, user_credentials(emulator, token=token)) == (
        "cognito-demo-authenticated"
    )


def set_rules(cognito_identity, rules: list[dict], ambiguous: str = "Deny") -> None:
    cognito_identity.set_identity_pool_roles(
        IdentityPoolId=seed.IDENTITY_POOL_ID,
        Roles={"authenticated": seed.AUTHENTICATED_ROLE, "unauthenticated": seed.GUEST_ROLE},
        RoleMappings={
            f"{PROVIDER}:{seed.CLIENT_ID}": {
                "Type": "Rules",
                "AmbiguousRoleResolution": ambiguous,
                "RulesConfiguration": {"Rules": rules},
            }
        },
    )


def test_rules_based_mapping_picks_the_first_matching_rule(emulator, cognito_identity) -> None:
    set_rules(
        cognito_identity,
        [
            {
                "Claim": "email",
                "MatchType": "Equals",
                "Value": "bob@example.com",
                "RoleARN": seed.READ_ONLY_ROLE,
            },
            {
                "Claim": "email",
                "MatchType": "Contains",
                "Value": "@example.com",
                "RoleARN": seed.AUTHENTICATED_ROLE,
            },
        ],
    )

    assert caller_role(emulator, user_credentials(emulator, "bob")) == "cognito-demo-read-only"
    assert (
        caller_role(emulator, user_credentials(emulator, "carol")) == "cognito-demo-authenticated"
    )


def test_rules_without_a_match_deny_when_ambiguity_is_denied(emulator, cognito_identity) -> None:
    rule = {
        "Claim": "email",
        "MatchType": "StartsWith",
        "Value": "carol",
        "RoleARN": seed.READ_ONLY_ROLE,
    }
    set_rules(cognito_identity, [rule], ambiguous="Deny")

    with pytest.raises(ClientError) as refused:
        user_credentials(emulator, "bob")
    assert error_code(refused.value) == "NotAuthorizedException"

    set_rules(cognito_identity, [rule], ambiguous="AuthenticatedRole")
    assert caller_role(emulator, user_credentials(emulator, "bob")) == "cognito-demo-authenticated"


def test_get_open_id_token_is_a_signed_jwt_for_the_pool(emulator, cognito_identity) -> None:
    token = id_token(emulator)
    identity_id = get_id(cognito_identity, token)

    answer = cognito_identity.get_open_id_token(IdentityId=identity_id, Logins=logins(token))
    jwks = jwt.PyJWKClient(f"{emulator.url}/.well-known/jwks_uri", cache_keys=False)
    key = jwks.get_signing_key_from_jwt(answer["Token"])
    claims = jwt.decode(
        answer["Token"],
        key.key,
        algorithms=["RS512"],
        audience=seed.IDENTITY_POOL_ID,
        issuer="https://cognito-identity.amazonaws.com",
    )

    assert claims["sub"] == identity_id
    assert claims["amr"][:2] == ["authenticated", PROVIDER]


def test_the_basic_flow_needs_the_pool_to_allow_it(emulator, cognito_identity) -> None:
    token = id_token(emulator)
    identity_id = get_id(cognito_identity, token)
    emulator.state.identities.classic_flow[seed.IDENTITY_POOL_ID] = False

    with pytest.raises(ClientError) as refused:
        cognito_identity.get_open_id_token(IdentityId=identity_id, Logins=logins(token))

    assert error_code(refused.value) == "InvalidParameterException"
    emulator.state.identities.classic_flow[seed.IDENTITY_POOL_ID] = True
    assert cognito_identity.get_open_id_token(IdentityId=identity_id, Logins=logins(token))


def basic_flow_token(emulator: Emulator, cognito_identity, *, guest: bool = False) -> str:
    if guest:
        identity_id = get_id(cognito_identity)
        return cognito_identity.get_open_id_token(IdentityId=identity_id)["Token"]
    token = id_token(emulator)
    identity_id = get_id(cognito_identity, token)
    return cognito_identity.get_open_id_token(IdentityId=identity_id, Logins=logins(token))["Token"]


def assume(emulator: Emulator, role_arn: str, token: str) -> dict:
    return aws_client(emulator, "sts").assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName="basic-flow", WebIdentityToken=token
    )


def test_assume_role_with_web_identity_checks_the_trust_policys_amr(
    emulator, cognito_identity
) -> None:
    user_token = basic_flow_token(emulator, cognito_identity)
    guest_token = basic_flow_token(emulator, cognito_identity, guest=True)

    with pytest.raises(ClientError) as refused:
        assume(emulator, seed.AUTHENTICATED_ROLE, guest_token)
    with pytest.raises(ClientError):
        assume(emulator, seed.GUEST_ROLE, user_token)

    assert error_code(refused.value) == "AccessDenied"
    assert assume(emulator, seed.AUTHENTICATED_ROLE, user_token)["Credentials"]["AccessKeyId"]
    assert assume(emulator, seed.GUEST_ROLE, guest_token)["Credentials"]["AccessKeyId"]


def test_assume_role_with_web_identity_checks_the_trust_policys_aud(
    emulator, cognito_identity
) -> None:
    from emulator import openid

    identity_id = get_id(cognito_identity)
    other_pool = openid.openid_token(
        pool_id=f"{seed.REGION}:00000000-0000-4000-8000-000000000000",
        identity_id=identity_id,
        amr=["unauthenticated"],
    )
    this_pool = openid.openid_token(
        pool_id=seed.IDENTITY_POOL_ID, identity_id=identity_id, amr=["unauthenticated"]
    )

    with pytest.raises(ClientError) as refused:
        assume(emulator, seed.GUEST_ROLE, other_pool)

    assert error_code(refused.value) == "AccessDenied"
    assert assume(emulator, seed.GUEST_ROLE, this_pool)


def test_assume_role_with_web_identity_refuses_a_forged_token(emulator, cognito_identity) -> None:
    token = basic_flow_token(emulator, cognito_identity)

    with pytest.raises(ClientError) as refused:
        assume(emulator, seed.AUTHENTICATED_ROLE, forge(token))

    assert error_code(refused.value) == "InvalidIdentityToken"
    assert assume(emulator, seed.AUTHENTICATED_ROLE, token)["Credentials"]["AccessKeyId"]


def test_developer_identities_need_the_apps_signature(emulator, cognito_identity) -> None:
    unsigned = boto3.client(
        "cognito-identity",
        endpoint_url=emulator.url,
        region_name=seed.REGION,
        config=Config(signature_version=UNSIGNED),
    )
    params = {
        "IdentityPoolId": seed.IDENTITY_POOL_ID,
        "Logins": {seed.DEVELOPER_PROVIDER_NAME: "user-42"},
    }

    with pytest.raises(ClientError) as refused:
        unsigned.get_open_id_token_for_developer_identity(**params)
    first = cognito_identity.get_open_id_token_for_developer_identity(**params)
    again = cognito_identity.get_open_id_token_for_developer_identity(**params)
    answer = cognito_identity.get_credentials_for_identity(
        IdentityId=first["IdentityId"], Logins={"cognito-identity.amazonaws.com": first["Token"]}
    )

    assert error_code(refused.value) == "MissingAuthenticationTokenException"
    assert first["IdentityId"] == again["IdentityId"]
    assert caller_role(emulator, answer) == "cognito-demo-authenticated"


def test_developer_logins_must_name_the_pools_developer_provider(
    emulator, cognito_identity
) -> None:
    with pytest.raises(ClientError) as refused:
        cognito_identity.get_open_id_token_for_developer_identity(
            IdentityPoolId=seed.IDENTITY_POOL_ID, Logins={"someone.else": "user-42"}
        )

    assert error_code(refused.value) == "NotAuthorizedException"
    assert cognito_identity.get_open_id_token_for_developer_identity(
        IdentityPoolId=seed.IDENTITY_POOL_ID, Logins={seed.DEVELOPER_PROVIDER_NAME: "user-42"}
    )["Token"]


def test_server_side_token_check_refuses_a_disabled_users_token(emulator, cognito_identity) -> None:
    token = id_token(emulator, "bob")
    cognito_identity.update_identity_pool(
        IdentityPoolId=seed.IDENTITY_POOL_ID,
        IdentityPoolName=seed.IDENTITY_POOL_NAME,
        AllowUnauthenticatedIdentities=True,
        CognitoIdentityProviders=[
            {"ProviderName": PROVIDER, "ClientId": seed.CLIENT_ID, "ServerSideTokenCheck": True}
        ],
    )
    assert get_id(cognito_identity, token) == demo_identity_id("bob")

    aws_client(emulator, "cognito-idp").admin_disable_user(
        UserPoolId=seed.USER_POOL_ID, Username="bob"
    )
    with pytest.raises(ClientError) as refused:
        get_id(cognito_identity, token)

    assert error_code(refused.value) == "NotAuthorizedException"
