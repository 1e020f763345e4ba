"""AdminCreateUser: a temporary password that meets the policy, and the invitation in the inbox.

moto sends no invitation, checks a temporary password against no policy, and leaves a user
created without one unable to sign in; Cognito generates one and sends it.
"""

from __future__ import annotations

import datetime
import secrets
import string
from typing import TYPE_CHECKING, Any

from moto.cognitoidp.models import UserStatus

from emulator import passwords
from emulator.errors import InvalidParameter, ResourceNotFound, UsernameExists, UserNotFound
from emulator.native import text

if TYPE_CHECKING:
    from moto.cognitoidp.models import CognitoIdpUser

    from emulator.state import EmulatorState


def admin_create_user(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """AdminCreateUser (and RESEND): a FORCE_CHANGE_PASSWORD user, invited by email or SMS."""
    pool_id = text(params, "UserPoolId")
    if pool_id != state.pool.id:
        raise ResourceNotFound(f"User pool {pool_id} does not exist.")
    username = text(params, "Username")
    action = text(params, "MessageAction", required=False)
    temporary = text(params, "TemporaryPassword", required=False) or generate_password()
    passwords.check_policy(state.pool, temporary)
    if action == "RESEND":
        user = state.pool._get_user(username)
        if user is None:
            raise UserNotFound("User does not exist.")
        if user.status != UserStatus.FORCE_CHANGE_PASSWORD:
            raise InvalidParameter("User is already confirmed.")
    else:
        # AWS's wording (moto's names the user); in a case-insensitive pool "Bob" is bob too.
        if state.pool._get_user(username) is not None:
            raise UsernameExists("User account already exists")
        attributes = [
            {"Name": str(a.get("Name")), "Value": str(a.get("Value"))}
            for a in params.get("UserAttributes") or []
        ]
        user = state.backend.admin_create_user(pool_id, username, "SUPPRESS", temporary, attributes)
    passwords.set_password(state, user, temporary)
    if action != "SUPPRESS":
        _invite(state, user, temporary, mediums=params.get("DesiredDeliveryMediums") or ["SMS"])
    return {"User": _json_safe(user.to_json(extended=True))}


def generate_password() -> str:
    """A temporary password with every character class, as Cognito generates one."""
    alphabet = string.ascii_letters + string.digits
    body = "".join(secrets.choice(alphabet) for _ in range(10))
    return f"{body}Aa1!"


def _invite(
    state: EmulatorState, user: CognitoIdpUser, temporary: str, *, mediums: list[str]
) -> None:
    attributes = user.attribute_lookup
    for medium, attribute in (("EMAIL", "email"), ("SMS", "phone_number")):
        if medium in mediums and attributes.get(attribute):
            state.inbox.send(
                to=attributes[attribute],
                kind="invitation",
                subject="Your temporary password",
                body=f"Your username is {user.username} and temporary password is {temporary}.",
                code=temporary,
            )


def _json_safe(value: Any) -> Any:
    """moto's user JSON with its datetimes as epoch seconds, as the JSON protocol sends them."""
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    return value
