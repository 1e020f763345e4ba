"""Identity credentials in the server-side session only, cached until shortly before they expire.

The credentials are stored with their owner (the signed-in user's `sub`, or `guest`), so a guest's
credentials never serve the user who signs in later in the same browser. The identity ID is kept
per owner too, so renewing credentials skips GetId.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from accounts.session import tokens_get
from config.aws import StaticCredentials
from identity.services import (
    FLOW_DEVELOPER,
    FLOW_GUEST,
    IdentityCredentials,
    credentials_for_developer_user,
    credentials_for_guest,
    credentials_for_user,
)

logger = logging.getLogger("identity")

# The current identity's credentials and who they belong to: never sent to the browser.
CREDENTIALS = "identity.credentials"
# The identity ID per owner, e.g. {"guest": "us-east-1:..."}.
IDENTITY_IDS = "identity.identity_ids"
# Set by "continue as a guest".
GUEST = "identity.guest"
GUEST_OWNER = "guest"


class NoIdentity(Exception):
    """Neither signed in nor a guest: there is nobody to get credentials for."""


def owner_of(request: HttpRequest) -> str | None:
    """Whose credentials this request uses: the signed-in user's `sub`, `guest`, or None."""
    if request.user.is_authenticated:
        tokens = tokens_get(request.session)
        return tokens.sub if tokens else None
    return GUEST_OWNER if request.session.get(GUEST) else None


def guest_start(request: HttpRequest) -> None:
    """Let this anonymous session use guest credentials."""
    request.session[GUEST] = True


def credentials_cached(request: HttpRequest) -> IdentityCredentials | None:
    """The stored credentials of this request's owner, if they are not about to expire."""
    stored = request.session.get(CREDENTIALS)
    if not stored or stored.get("owner") != owner_of(request):
        return None
    credentials = _from_session(stored)
    if credentials.expiring(settings.IDENTITY_CREDENTIALS_MARGIN):
        return None
    return credentials


def credentials_for_request(
    request: HttpRequest,
    *,
    renew: bool = False,
    flow: str | None = None,
    role_arn: str | None = None,
) -> IdentityCredentials:
    """Cached credentials of this request's owner, or new ones (then kept in the session)."""
    cached = None if renew or flow or role_arn else credentials_cached(request)
    if cached is not None:
        return cached
    owner = owner_of(request)
    if owner is None:
        raise NoIdentity
    identity_ids: dict[str, str] = request.session.get(IDENTITY_IDS, {})
    previous = request.session.get(CREDENTIALS) or {}
    if previous.get("owner") == owner:
        # A renewal keeps how the credentials were obtained and the role that was chosen.
        flow = flow or previous.get("flow")
        role_arn = role_arn or previous.get("chosen_role")
    if owner == GUEST_OWNER:
        credentials = credentials_for_guest(identity_id=identity_ids.get(owner))
    elif flow == FLOW_DEVELOPER:
        credentials = credentials_for_developer_user(user_id=owner)
    else:
        tokens = tokens_get(request.session)
        assert tokens is not None  # owner_of() found them
        credentials = credentials_for_user(
            id_token=tokens.id_token,
            identity_id=identity_ids.get(owner) if flow != FLOW_DEVELOPER else None,
            role_arn=role_arn,
        )
    credentials_save(request, owner, credentials, chosen_role=role_arn)
    if flow != FLOW_DEVELOPER:
        request.session[IDENTITY_IDS] = {**identity_ids, owner: credentials.identity_id}
    logger.info(
        "event=identity_credentials flow=%s identity_id=%s renew=%s",
        credentials.flow,
        credentials.identity_id,
        renew,
    )
    return credentials


def credentials_save(
    request: HttpRequest, owner: str, credentials: IdentityCredentials, *, chosen_role: str | None
) -> None:
    stored: dict[str, Any] = asdict(credentials)
    stored["credentials"] = asdict(credentials.credentials)
    request.session[CREDENTIALS] = {**stored, "owner": owner, "chosen_role": chosen_role}


def credentials_forget(request: HttpRequest) -> None:
    request.session.pop(CREDENTIALS, None)


def is_guest(credentials: IdentityCredentials) -> bool:
    return credentials.flow == FLOW_GUEST


def _from_session(stored: dict[str, Any]) -> IdentityCredentials:
    return IdentityCredentials(
        identity_id=stored["identity_id"],
        credentials=StaticCredentials(**stored["credentials"]),
        expires_at=stored["expires_at"],
        role_arn=stored["role_arn"],
        flow=stored["flow"],
    )
