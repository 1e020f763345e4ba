"""The pool's password policy, with Cognito's messages, and every password change in one place."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from emulator import srp
from emulator.errors import InvalidPassword

if TYPE_CHECKING:
    from moto.cognitoidp.models import CognitoIdpUser, CognitoIdpUserPool

    from emulator.state import EmulatorState

# Cognito's symbol set for RequireSymbols.
SYMBOLS = set("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ")
POLICY_PREFIX = "Password did not conform with policy: "


def policy_of(pool: CognitoIdpUserPool) -> dict[str, object]:
    """The pool's PasswordPolicy (Cognito's defaults where unset)."""
    policy = (pool.extended_config.get("Policies") or {}).get("PasswordPolicy") or {}
    return {
        "MinimumLength": 8,
        "RequireUppercase": True,
        "RequireLowercase": True,
        "RequireNumbers": True,
        "RequireSymbols": True,
        **policy,
    }


def check_policy(pool: CognitoIdpUserPool, password: str) -> None:
    """Raise InvalidPasswordException with Cognito's message for the first rule broken."""
    policy = policy_of(pool)
    checks = (
        (len(password) >= int(str(policy["MinimumLength"])), "Password not long enough"),
        (
            not policy["RequireLowercase"] or bool(re.search("[a-z]", password)),
            "Password must have lowercase characters",
        ),
        (
            not policy["RequireUppercase"] or bool(re.search("[A-Z]", password)),
            "Password must have uppercase characters",
        ),
        (
            not policy["RequireNumbers"] or bool(re.search("[0-9]", password)),
            "Password must have numeric characters",
        ),
        (
            not policy["RequireSymbols"] or any(char in SYMBOLS for char in password),
            "Password must have symbol characters",
        ),
    )
    for passed, message in checks:
        if not passed:
            raise InvalidPassword(POLICY_PREFIX + message)


def set_password(state: EmulatorState, user: CognitoIdpUser, password: str) -> None:
    """Store a new password and the SRP verifier derived from it."""
    user.password = password
    srp.remember(state, user)
