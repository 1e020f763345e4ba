"""Managed login's steps after the password: a new password, or a TOTP, SMS or email code.

The sign-in page (emulator.login) calls these; the factor is chosen as the native API chooses
it, and SMS and email codes are sent to the inbox per sign-in.
"""

from __future__ import annotations

import hmac
import time
from html import escape
from typing import TYPE_CHECKING

from werkzeug.wrappers import Response

from emulator import codes, pages, risk
from emulator.challenges import mfa_factors
from emulator.mfa import totp_accept
from emulator.state import PENDING_SIGNIN_SECONDS, PendingSignIn
from emulator.stores import HostedStep
from emulator.tokens import new_opaque_token

if TYPE_CHECKING:
    from moto.cognitoidp.models import CognitoIdpUser

    from emulator.state import EmulatorState

ATTEMPTS_EXCEEDED = "Password attempts exceeded"
_KINDS = {"SOFTWARE_TOKEN_MFA": "totp", "SMS_MFA": "sms", "EMAIL_OTP": "email"}


def mfa_kind(state: EmulatorState, user: CognitoIdpUser) -> str | None:
    """The factor this user's sign-in asks for (the preferred one, else the first), or None."""
    if state.pool.mfa_config == "OFF":
        return None
    factors = mfa_factors(state, user)
    if not factors:
        return None
    preferred = user.preferred_mfa_setting
    return _KINDS[preferred if preferred in factors else factors[0]]


def pend(state: EmulatorState, *, user: CognitoIdpUser, query: str, kind: str) -> str:
    """A pending sign-in waiting for this step; SMS and email codes are sent now."""
    pending = new_opaque_token()
    step = HostedStep(kind=kind)
    if kind != "new_password":
        risk.mfa_asked(state, user.username)
    if kind in ("sms", "email"):
        destination = user.attribute_lookup["phone_number" if kind == "sms" else "email"]
        code = codes.new_code()
        codes.send(state, purpose="mfa", to=destination, code=code)
        step = HostedStep(
            kind=kind, code=code, code_expires_at=time.time() + codes.LIFETIMES["mfa"]
        )
    with state.lock:
        state.pending_signins[pending] = PendingSignIn(
            username=user.username, query=query, expires_at=time.time() + PENDING_SIGNIN_SECONDS
        )
        state.flows.hosted_steps[pending] = step
    return pending


def start_mfa(
    state: EmulatorState,
    *,
    user: CognitoIdpUser,
    query: str,
    assessment: risk.Assessment | None = None,
) -> str | None:
    """The pending sign-in of an MFA step, or None when the user has no factor.

    A risky sign-in (`assessment`) asks a user without a factor for an email or SMS code.
    """
    kind = mfa_kind(state, user)
    if kind is None and assessment is not None:
        added = risk.adaptive_factor(state, user, assessment, factors=[])
        kind = _KINDS[added] if added else None
    return pend(state, user=user, query=query, kind=kind) if kind else None


def step_kind(state: EmulatorState, pending: str) -> str | None:
    """What a pending sign-in waits for."""
    step = state.flows.hosted_steps.get(pending)
    return step.kind if step else None


def code_accept(state: EmulatorState, *, pending_id: str, username: str, code: str) -> bool:
    """Check the code of a pending sign-in against its factor."""
    step = state.flows.hosted_steps.get(pending_id, HostedStep(kind="totp"))
    if step.kind == "totp":
        accepted = totp_accept(state, username=username, code=code)
    elif step.kind in ("sms", "email") and step.code and step.code_expires_at >= time.time():
        accepted = hmac.compare_digest(step.code.encode(), code.strip().encode())
    else:
        accepted = False
    if accepted:
        with state.lock:
            state.flows.hosted_steps.pop(pending_id, None)
    return accepted


def code_page(
    state: EmulatorState, *, csrf: str, pending: str, error: str | None = None
) -> Response:
    """The code step: the authenticator app's page for TOTP, the sent code's for SMS and email."""
    step = state.flows.hosted_steps.get(pending)
    if step is not None and step.kind == "new_password":
        return new_password_page(state, csrf=csrf, pending=pending, error=error)
    if step is None or step.kind == "totp":
        return pages.mfa_page(action="/mfa", csrf=csrf, pending=pending, error=error)
    where = "your phone" if step.kind == "sms" else "your email"
    body = (
        (f'<p class="error" data-testid="error">{escape(error)}</p>' if error else "")
        + f'<p class="note" data-testid="note">We sent a code to {where}.</p>'
        + '<form method="post" action="/mfa">'
        + f'<input type="hidden" name="_csrf" value="{escape(csrf)}">'
        + f'<input type="hidden" name="pending" value="{escape(pending)}">'
        + '<label for="mfa-code">Code</label>'
        + '<input id="mfa-code" name="code" data-testid="mfa-code" inputmode="numeric"'
        + ' autocomplete="one-time-code" required autofocus>'
        + '<button type="submit" data-testid="submit">Sign in</button></form>'
    )
    return pages.page("Multi-factor authentication", body)


def new_password_page(
    state: EmulatorState,
    *,
    csrf: str,
    pending: str,
    error: str | None = None,
    status: int = 200,
) -> Response:
    """The first sign-in of a user with a temporary password: choose a new one."""
    body = (
        (f'<p class="error" data-testid="error">{escape(error)}</p>' if error else "")
        + '<p class="note">Your temporary password must be changed.</p>'
        + '<form method="post" action="/newPassword">'
        + f'<input type="hidden" name="_csrf" value="{escape(csrf)}">'
        + f'<input type="hidden" name="pending" value="{escape(pending)}">'
        + '<label for="new-password">New password</label>'
        + '<input id="new-password" name="password" type="password" data-testid="new-password"'
        + ' autocomplete="new-password" required autofocus>'
        + '<button type="submit" data-testid="submit">Change password</button></form>'
    )
    return pages.page("Change password", body, status=status)
