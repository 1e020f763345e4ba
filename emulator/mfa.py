"""TOTP checked against each user's own secret, each accepted code usable once."""

from __future__ import annotations

import hmac
import time
from typing import TYPE_CHECKING

import pyotp

if TYPE_CHECKING:
    from moto.cognitoidp.models import CognitoIdpUser

    from emulator.state import EmulatorState

TOTP_STEP_SECONDS = 30


def requires_totp(user: CognitoIdpUser) -> bool:
    """Whether signing in as this user needs a TOTP code."""
    return bool(user.software_token_mfa_enabled) and (
        user.preferred_mfa_setting in (None, "", "SOFTWARE_TOKEN_MFA")
    )


def totp_accept(state: EmulatorState, *, username: str, code: str) -> bool:
    """Accept a code of this user's secret from the previous, current or next 30 s step, once."""
    secret = state.totp_secrets.get(username)
    code = code.strip()
    if not secret or len(code) != 6 or not code.isdigit():
        return False
    totp = pyotp.TOTP(secret)
    now_step = int(time.time()) // TOTP_STEP_SECONDS
    for step in (now_step - 1, now_step, now_step + 1):
        try:
            expected = totp.at(step * TOTP_STEP_SECONDS)
        except ValueError:  # a secret pyotp refuses (shorter than 112 bits) matches nothing
            return False
        if hmac.compare_digest(expected.encode(), code.encode()):
            with state.lock:
                # A code that was accepted once is refused from then on (RFC 6238 section 5.2).
                if step <= state.totp_last_steps.get(username, -1):
                    return False
                state.totp_last_steps[username] = step
            return True
    return False
