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
    IdentityCredentials,
    IdentityError,
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


def credentials_for_request(request: HttpRequest, *, renew: bool = False) -> IdentityCredentials:
    """Cached credentials of this request's owner, or new ones obtained as the last ones were."""
    cached = None if renew else credentials_cached(request)
    if cached is not None:
        return cached
    owner = _owner_or_raise(request)
    previous = request.session.get(CREDENTIALS) or {}
    if previous.get("owner") != owner:
        previous = {}
    return _obtain(request, owner, flow=previous.get("flow"), role_arn=previous.get("chosen_role"))


def credentials_choose(
    request: HttpRequest, *, flow: str | None, role_arn: str | None
) -> IdentityCredentials:
    """New credentials for this request's owner, by the flow and with the role they chose."""
    return _obtain(request, _owner_or_raise(request), flow=flow, role_arn=role_arn)


def _owner_or_raise(request: HttpRequest) -> str:
    owner = owner_of(request)
    if owner is None:
        raise NoIdentity
    return owner


def _obtain(
    request: HttpRequest, owner: str, *, flow: str | None, role_arn: str | None
) -> IdentityCredentials:
    identity_ids: dict[str, str] = request.session.get(IDENTITY_IDS, {})
    try:
        credentials = _fetch(request, owner, identity_ids.get(owner), flow, role_arn)
    except IdentityError as error:
        if error.code != "identity_not_found" or owner not in identity_ids:
            raise
        # The pool no longer knows the identity kept here (deleted, or a reset demo world).
        credentials = _fetch(request, owner, None, flow, role_arn)
    if flow != FLOW_DEVELOPER:
        request.session[IDENTITY_IDS] = {**identity_ids, owner: credentials.identity_id}
    credentials_save(request, owner, credentials, chosen_role=role_arn)
    logger.info(
        "event=identity_credentials flow=%s identity_id=%s",
        credentials.flow,
        credentials.identity_id,
    )
    return credentials


def _fetch(
    request: HttpRequest,
    owner: str,
    identity_id: str | None,
    flow: str | None,
    role_arn: str | None,
) -> IdentityCredentials:
    if owner == GUEST_OWNER:
        return credentials_for_guest(identity_id=identity_id)
    if flow == FLOW_DEVELOPER:
        # The app vouches for its signed-in user under the user's `sub`.
        return credentials_for_developer_user(user_id=owner)
    tokens = tokens_get(request.session)
    assert tokens is not None  # owner_of() found them
    return credentials_for_user(
        id_token=tokens.id_token, identity_id=identity_id, role_arn=role_arn
    )


def credentials_save(
    request: HttpRequest, owner: str, credentials: IdentityCredentials, *, chosen_role: str | None
) -> None:
    stored: dict[str, Any] = asdict(credentials)
    stored["credentials"] = asdict(credentials.credentials)
    request.session[CREDENTIALS] = {**stored, "owner": owner, "chosen_role": chosen_role}


def _from_session(stored: dict[str, Any]) -> IdentityCredentials:
    return IdentityCredentials(
        identity_id=stored["identity_id"],
        credentials=StaticCredentials(**stored["credentials"]),
        expires_at=stored["expires_at"],
        role_arn=stored["role_arn"],
        flow=stored["flow"],
    )
