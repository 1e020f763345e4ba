"""The seed's part for the native sign-in: verifiers, MFA factors and first-sign-in users."""

from __future__ import annotations

from typing import TYPE_CHECKING

from moto.cognitoidp.models import UserStatus

from emulator import srp

if TYPE_CHECKING:
    from moto.cognitoidp.models import CognitoIdpUser

    from emulator.seed import DemoUser
    from emulator.state import EmulatorState


def seed_sign_in(state: EmulatorState, user: CognitoIdpUser, demo_user: DemoUser) -> None:
    """SMS or email MFA, a temporary password, and the SRP verifier of a demo user."""
    if demo_user.mfa == "sms" and demo_user.phone_number:
        user.sms_mfa_enabled = True
        user.preferred_mfa_setting = "SMS_MFA"
    if demo_user.mfa == "email":
        state.flows.email_mfa.add(user.username)
        user.preferred_mfa_setting = "EMAIL_OTP"
    if demo_user.must_change_password:
        user.status = UserStatus.FORCE_CHANGE_PASSWORD
    srp.remember(state, user)
