"""The native sign-in and self-service operations the emulator answers instead of moto."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from emulator import challenges, invitations, selfservice

if TYPE_CHECKING:
    from emulator.state import EmulatorState

SIGN_IN_OPERATIONS: dict[str, Callable[[EmulatorState, dict[str, Any]], dict[str, Any]]] = {
    "InitiateAuth": challenges.initiate_auth,
    "AdminInitiateAuth": challenges.admin_initiate_auth,
    "RespondToAuthChallenge": challenges.respond_to_auth_challenge,
    "AdminRespondToAuthChallenge": challenges.admin_respond_to_auth_challenge,
    "SignUp": selfservice.sign_up,
    "ConfirmSignUp": selfservice.confirm_sign_up,
    "ResendConfirmationCode": selfservice.resend_confirmation_code,
    "ForgotPassword": selfservice.forgot_password,
    "ConfirmForgotPassword": selfservice.confirm_forgot_password,
    "ChangePassword": selfservice.change_password,
    "GetUser": selfservice.get_user,
    "UpdateUserAttributes": selfservice.update_user_attributes,
    "GetUserAttributeVerificationCode": selfservice.get_user_attribute_verification_code,
    "VerifyUserAttribute": selfservice.verify_user_attribute,
    "AssociateSoftwareToken": selfservice.associate_software_token,
    "VerifySoftwareToken": selfservice.verify_software_token,
    "SetUserMFAPreference": selfservice.set_user_mfa_preference,
    "AdminSetUserMFAPreference": selfservice.admin_set_user_mfa_preference,
    "GetTokensFromRefreshToken": selfservice.get_tokens_from_refresh_token,
    "GlobalSignOut": selfservice.global_sign_out,
    "AdminUserGlobalSignOut": selfservice.admin_user_global_sign_out,
    "AdminCreateUser": invitations.admin_create_user,
}
