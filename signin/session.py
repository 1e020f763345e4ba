"""What API sign-in keeps in the server-side session while a sign-in is in progress."""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase

from signin.services import Challenge

# The API sign-in in progress: its challenge (Cognito's Session string and the username) bound
# to one attempt id, never sent to the browser.
SIGNIN_ATTEMPT = "signin.attempt"
# The username a sign-up confirmation or a password reset is for: carried here, not in URLs.
# A sign-in sets them when the pool wants the account confirmed or its password reset first.
CONFIRMING_USERNAME = "signin.confirming_username"
RESETTING_USERNAME = "signin.resetting_username"


@dataclass(frozen=True)
class SigninAttempt:
    """One API sign-in waiting on a challenge step."""

    id: str
    challenge: Challenge
    next_url: str
    step_started_at: float
    totp_secret: str = ""  # the mfa_setup step only: the secret being enrolled, as a QR code

    @property
    def expired(self) -> bool:
        # Cognito's challenge Session lives AuthSessionValidity (3 min by default) per step.
        return time.time() - self.step_started_at >= settings.COGNITO_AUTH_SESSION_SECONDS


def signin_attempt_save(
    session: SessionBase,
    challenge: Challenge,
    *,
    next_url: str,
    attempt_id: str | None = None,
    totp_secret: str = "",
) -> SigninAttempt:
    """Keep the challenge for its step; a new sign-in gets a new attempt id."""
    attempt = SigninAttempt(
        id=attempt_id or secrets.token_urlsafe(16),
        challenge=challenge,
        next_url=next_url,
        step_started_at=time.time(),
        totp_secret=totp_secret,
    )
    session[SIGNIN_ATTEMPT] = asdict(attempt)
    return attempt


def signin_attempt_get(session: SessionBase) -> SigninAttempt | None:
    stored = session.get(SIGNIN_ATTEMPT)
    if not stored:
        return None
    return SigninAttempt(**{**stored, "challenge": Challenge(**stored["challenge"])})


def signin_attempt_pop(session: SessionBase) -> SigninAttempt | None:
    """Take the attempt out: a Cognito Session string is answered once."""
    attempt = signin_attempt_get(session)
    session.pop(SIGNIN_ATTEMPT, None)
    return attempt
