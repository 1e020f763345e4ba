"""Provision the demo world (emulator.seed) into moto, the same on every start and reset."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from emulator import branding, federation, pretoken, risk, seed, userauthseed
from emulator.accountseed import seed_sign_in

if TYPE_CHECKING:
    from emulator.state import EmulatorState

PASSWORD_POLICY = {
    "MinimumLength": 8,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": True,
}


def user_sub(username: str) -> str:
    """A stable `sub` per demo user, so tokens and pages agree across restarts."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{seed.USER_POOL_ID}/{username}"))


def client_config(state: EmulatorState) -> dict[str, object]:
    """The demo app client's settings, with the app URLs registered so far."""
    return {
        "ClientName": seed.CLIENT_NAME,
        "ExplicitAuthFlows": [
            "ALLOW_USER_SRP_AUTH",
            "ALLOW_USER_PASSWORD_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH",
            "ALLOW_CUSTOM_AUTH",
            "ALLOW_ADMIN_USER_PASSWORD_AUTH",
            "ALLOW_USER_AUTH",
        ],
        "AllowedOAuthFlows": ["code"],
        "AllowedOAuthFlowsUserPoolClient": True,
        "AllowedOAuthScopes": list(seed.SCOPES),
        "SupportedIdentityProviders": ["COGNITO"],
        "CallbackURLs": list(state.callback_urls),
        "LogoutURLs": list(state.logout_urls),
        "EnableTokenRevocation": True,
        "PreventUserExistenceErrors": "ENABLED",
        "AccessTokenValidity": 60,
        "IdTokenValidity": 60,
        "RefreshTokenValidity": 30,
        "TokenValidityUnits": {
            "AccessToken": "minutes",
            "IdToken": "minutes",
            "RefreshToken": "days",
        },
    }


def machine_client_config() -> dict[str, object]:
    """The machine client: a secret, the client_credentials grant only, notes/read only."""
    return {
        "ClientName": seed.MACHINE_CLIENT_NAME,
        # Cognito always keeps refresh on a client; client_credentials issues no refresh token.
        "ExplicitAuthFlows": ["ALLOW_REFRESH_TOKEN_AUTH"],
        "AllowedOAuthFlows": ["client_credentials"],
        "AllowedOAuthFlowsUserPoolClient": True,
        "AllowedOAuthScopes": list(seed.MACHINE_SCOPES),
        "AccessTokenValidity": 60,
        "TokenValidityUnits": {"AccessToken": "minutes"},
    }


def public_client_config() -> dict[str, object]:
    """The public client: no secret (SDKs in browsers and apps cannot keep one), SRP and refresh."""
    return {
        "ClientName": seed.PUBLIC_CLIENT_NAME,
        "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        "EnableTokenRevocation": True,
        "PreventUserExistenceErrors": "ENABLED",
    }


def provision(state: EmulatorState) -> None:
    """Replace moto's cognito-idp state for the demo account and region with the seed."""
    backend = state.backend
    backend.reset()
    pool = backend.create_user_pool(
        seed.USER_POOL_NAME,
        {
            "Policies": {"PasswordPolicy": PASSWORD_POLICY},
            "AutoVerifiedAttributes": ["email"],
            "MfaConfiguration": "OPTIONAL",
            "UsernameConfiguration": dict(seed.USERNAME_CONFIGURATION),
            "UserAttributeUpdateSettings": {"AttributesRequireVerificationBeforeUpdate": ["email"]},
        },
    )
    # moto generates pool and client IDs (its HASH strategy derives them from the name, never
    # our fixed values), so the seed re-keys them right after creation, before anything uses them.
    del backend.user_pools[pool.id]
    pool.id = seed.USER_POOL_ID
    pool.arn = f"arn:aws:cognito-idp:{seed.REGION}:{seed.ACCOUNT_ID}:userpool/{pool.id}"
    backend.user_pools[pool.id] = pool
    backend.set_user_pool_mfa_config(
        pool.id, sms_config=None, token_config={"Enabled": True}, mfa_config="OPTIONAL"
    )
    backend.create_user_pool_domain(pool.id, seed.DOMAIN_PREFIX)

    backend.create_resource_server(
        pool.id,
        seed.RESOURCE_SERVER_ID,
        seed.RESOURCE_SERVER_NAME,
        [
            {"ScopeName": name, "ScopeDescription": description}
            for name, description in seed.RESOURCE_SERVER_SCOPES
        ],
    )
    for client_id, secret, config in (
        (seed.CLIENT_ID, seed.CLIENT_SECRET, client_config(state)),
        (seed.MACHINE_CLIENT_ID, seed.MACHINE_CLIENT_SECRET, machine_client_config()),
        (seed.PUBLIC_CLIENT_ID, None, public_client_config()),
    ):
        client = backend.create_user_pool_client(pool.id, secret is not None, config)
        del pool.clients[client.id]
        client.id = client_id
        if secret is not None:
            client.secret = secret
        pool.clients[client.id] = client

    for demo_user in seed.DEMO_USERS:
        user = backend.admin_create_user(
            pool.id, demo_user.username, "SUPPRESS", demo_user.password, demo_user.attributes
        )
        backend.admin_set_user_password(pool.id, demo_user.username, demo_user.password, True)
        user.id = user_sub(demo_user.username)
        user.update_attributes([{"Name": "sub", "Value": user.id}])
        if demo_user.mfa == "totp" and demo_user.totp_secret:
            user.token_verified = True
            user.software_token_mfa_enabled = True
            user.preferred_mfa_setting = "SOFTWARE_TOKEN_MFA"
            state.totp_secrets[demo_user.username] = demo_user.totp_secret
        seed_sign_in(state, user, demo_user)
    userauthseed.provision(state, user_sub=user_sub)
    state.flows.triggers[pool.id] = dict(seed.CUSTOM_AUTH_TRIGGERS)
    pretoken.configure(
        state,
        pool.id,
        handler=seed.PRE_TOKEN_GENERATION["LambdaArn"],
        version=seed.PRE_TOKEN_GENERATION["LambdaVersion"],
    )

    federation.provision(state, state.federation)
    _provision_variants(state)

    # Imported here: the identity pool's seed derives identity IDs from `user_sub` above.
    from emulator import storage_world

    storage_world.provision(state)


def _provision_variants(state: EmulatorState) -> None:
    """Issue 14: a second web client, each client's managed login style, threat protection."""
    backend = state.backend
    pool = state.pool
    partner = backend.create_user_pool_client(
        pool.id,
        False,
        {
            "ClientName": seed.PARTNER_CLIENT_NAME,
            "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            "AllowedOAuthFlows": ["code"],
            "AllowedOAuthFlowsUserPoolClient": True,
            "AllowedOAuthScopes": ["openid", "email"],
            "SupportedIdentityProviders": ["COGNITO"],
            "CallbackURLs": [seed.PARTNER_CALLBACK_URL],
            "PreventUserExistenceErrors": "ENABLED",
        },
    )
    del pool.clients[partner.id]
    partner.id = seed.PARTNER_CLIENT_ID
    pool.clients[partner.id] = partner
    branding.provision(state)
    risk.provision(state)


def reset(state: EmulatorState) -> None:
    """Back to the seed: users, MFA secrets, codes, sessions, revoked tokens and the inbox."""
    with state.lock:
        state.clear()
        provision(state)
