"""One-time codes sent to the inbox: sign-up, password reset, attribute verification, MFA."""

from __future__ import annotations

import hmac
import secrets
import time
from typing import TYPE_CHECKING

from emulator.errors import CodeMismatch, ExpiredCode
from emulator.stores import OneTimeCode

if TYPE_CHECKING:
    from moto.cognitoidp.models import CognitoIdpUser

    from emulator.state import EmulatorState

# Seconds a code stays valid, by purpose (Cognito: 24 h for sign-up and attributes, 1 h for
# password resets, 3 min for MFA codes, the auth session's lifetime).
LIFETIMES = {
    "signup": 24 * 3600,
    "forgot_password": 3600,
    "attribute_verification": 24 * 3600,
    "mfa": 3 * 60,
}
CODE_MISMATCH = "Invalid verification code provided, please try again."
CODE_EXPIRED = "Invalid code provided, please request a code again."
MFA_CODE_MISMATCH = "Invalid code or auth state for the user."
_SUBJECTS = {
    "signup": "Your verification code",
    "forgot_password": "Your password reset code",
    "attribute_verification": "Your verification code",
    "mfa": "Your sign-in code",
}


def new_code() -> str:
    """Six random digits."""
    return f"{secrets.randbelow(10**6):06d}"


def mask(destination: str) -> str:
    """Cognito's masked destination: `b***@e***` for an email, `+*******1234` for a phone."""
    if "@" in destination:
        local, _, domain = destination.partition("@")
        return f"{local[:1]}***@{domain[:1]}***"
    return f"{destination[:1]}{'*' * max(len(destination) - 5, 0)}{destination[-4:]}"


def delivery(destination: str) -> dict[str, str]:
    """CodeDeliveryDetails for a message sent to this address or number."""
    email = "@" in destination
    return {
        "Destination": mask(destination),
        "DeliveryMedium": "EMAIL" if email else "SMS",
        "AttributeName": "email" if email else "phone_number",
    }


def send(state: EmulatorState, *, purpose: str, to: str, code: str) -> None:
    """Deliver a code to the inbox, as SES or SNS would."""
    state.inbox.send(
        to=to,
        kind=purpose,
        subject=_SUBJECTS[purpose],
        body=f"Your code is {code}",
        code=code,
    )


def issue(state: EmulatorState, *, purpose: str, user: CognitoIdpUser, to: str) -> dict[str, str]:
    """A new code for this purpose (replacing any earlier one), sent to `to`."""
    code = new_code()
    with state.lock:
        state.flows.codes[(purpose, user.username)] = OneTimeCode(
            code=code, expires_at=time.time() + LIFETIMES[purpose], destination=to
        )
    send(state, purpose=purpose, to=to, code=code)
    return delivery(to)


def redeem(state: EmulatorState, *, purpose: str, user: CognitoIdpUser, code: str) -> OneTimeCode:
    """Check and use up a code: ExpiredCode when none is due, CodeMismatch when it differs."""
    key = (purpose, user.username)
    with state.lock:
        issued = state.flows.codes.get(key)
        if issued is None or issued.expires_at < time.time():
            state.flows.codes.pop(key, None)
            raise ExpiredCode(CODE_EXPIRED)
        if not hmac.compare_digest(issued.code.encode(), code.strip().encode()):
            raise CodeMismatch(CODE_MISMATCH)
        del state.flows.codes[key]
    return issued
