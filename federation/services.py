"""The identity providers of the app client, read from the user pool: the only AWS calls here.

DescribeUserPoolClient lists the client's SupportedIdentityProviders; DescribeIdentityProvider
gives each one's type and the email domains (IdpIdentifiers) that route to it. Both need AWS
credentials, so the answer is cached, and COGNITO_IDENTITY_PROVIDERS can stand in for pools the
app may not describe.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.cache import cache

from config.aws import aws_client

logger = logging.getLogger("federation")

CACHE_KEY = "federation.identity_providers"
# A failed describe is retried after this long, not at every page view.
FAILURE_CACHE_SECONDS = 30
# What a social provider is called on its button; SAML and OIDC providers go by their name.
_SOCIAL_NAMES = {
    "Google": "Google",
    "Facebook": "Facebook",
    "LoginWithAmazon": "Amazon",
    "SignInWithApple": "Apple",
}


@dataclass(frozen=True)
class IdentityProvider:
    """A third-party IdP of the app client; `name` is what authorize's identity_provider takes."""

    name: str
    type: str
    display_name: str
    email_domains: tuple[str, ...] = ()
    # The user pool attributes the IdP fills at every sign-in (its AttributeMapping); None when
    # the pool was not described, and then any attribute may be the IdP's.
    mapped_attributes: tuple[str, ...] | None = None


def providers_list() -> list[IdentityProvider]:
    """The client's third-party IdPs, from the override setting or the pool (cached)."""
    if settings.COGNITO_IDENTITY_PROVIDERS:
        return [_configured(entry) for entry in settings.COGNITO_IDENTITY_PROVIDERS]
    cached = cache.get(CACHE_KEY)
    if cached is not None:
        return cached
    try:
        providers = _described()
    except (ClientError, BotoCoreError) as error:
        code = error.response["Error"]["Code"] if isinstance(error, ClientError) else "network"
        logger.warning("event=identity_providers_unavailable reason=%s", code)
        cache.set(CACHE_KEY, [], FAILURE_CACHE_SECONDS)
        return []
    cache.set(CACHE_KEY, providers, settings.IDENTITY_PROVIDERS_CACHE_SECONDS)
    return providers


def provider_named(name: str) -> IdentityProvider:
    """The client's IdP of this name; one the app cannot list is named as the pool names it."""
    listed = next((p for p in providers_list() if p.name == name), None)
    return listed or IdentityProvider(name=name, type="", display_name=name)


def provider_for_email(email: str) -> IdentityProvider | None:
    """The SAML or OIDC provider whose email domains hold this address's domain."""
    domain = email.rpartition("@")[2].lower()
    return next((p for p in providers_list() if domain in p.email_domains), None)


def _described() -> list[IdentityProvider]:
    client = aws_client("cognito-idp")
    app_client = client.describe_user_pool_client(
        UserPoolId=settings.COGNITO_USER_POOL_ID, ClientId=settings.COGNITO_CLIENT_ID
    )["UserPoolClient"]
    names = dict(_name_and_display(entry) for entry in settings.COGNITO_IDENTITY_PROVIDER_NAMES)
    providers = []
    for name in app_client.get("SupportedIdentityProviders", []):
        if name == "COGNITO":  # the pool's own users: managed login, not a federation button
            continue
        described = client.describe_identity_provider(
            UserPoolId=settings.COGNITO_USER_POOL_ID, ProviderName=name
        )["IdentityProvider"]
        provider_type = described.get("ProviderType", "")
        providers.append(
            IdentityProvider(
                name=name,
                type=provider_type,
                display_name=names.get(name) or _SOCIAL_NAMES.get(provider_type, name),
                email_domains=tuple(d.lower() for d in described.get("IdpIdentifiers", [])),
                mapped_attributes=tuple(described.get("AttributeMapping", {})),
            )
        )
    return providers


def _configured(entry: str) -> IdentityProvider:
    """`Name` or `Name=Display name` from COGNITO_IDENTITY_PROVIDERS."""
    name, display_name = _name_and_display(entry)
    return IdentityProvider(name=name, type="", display_name=display_name or name)


def _name_and_display(entry: str) -> tuple[str, str]:
    name, _, display_name = entry.partition("=")
    return name.strip(), display_name.strip()
