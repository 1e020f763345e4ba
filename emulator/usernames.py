"""Usernames as a pool's `UsernameConfiguration` has them: `CaseSensitive: false` ignores case.

Cognito, for a pool created with `CaseSensitive: false`, "treats any variation in case as the
same user": `bob`, `BOB` and `Bob` are one user, and so are the email and phone number it takes
as sign-in attributes. A pool created without `UsernameConfiguration` (the API's default) or
with `CaseSensitive: true` keeps them distinct. moto matches exactly, so
`install_case_insensitive_lookup` replaces `CognitoIdpUserPool._get_user`, the one place moto
finds a user by a typed name: sign-in, the admin operations, SignUp's and AdminCreateUser's
existence checks and the emulator's own lookups all go through it. The stored username stays
as it was created.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from moto.cognitoidp.models import CognitoIdpUser, CognitoIdpUserPool

_original_get_user: Any = None


def case_sensitive(pool: CognitoIdpUserPool) -> bool:
    """Whether the pool tells `USERNAME` and `username` apart (true unless created otherwise)."""
    configuration = pool.extended_config.get("UsernameConfiguration") or {}
    return configuration.get("CaseSensitive") is not False


def _caseless_match(pool: CognitoIdpUserPool, username: str) -> CognitoIdpUser | None:
    """The user whose sign-in attribute or username equals `username` in any case, or None."""
    # str.lower, not casefold: casefold makes "ß" and "ss" one user, which is no case variation.
    wanted = username.lower()
    users = list(pool.users.values())
    # In moto's order: the sign-in attributes (UsernameAttributes) first, then the username.
    for attribute in pool.extended_config.get("UsernameAttributes") or []:
        for user in users:
            value = user.attribute_lookup.get(attribute)
            if value and value.lower() == wanted:
                return user
    return next((user for user in users if user.username.lower() == wanted), None)


def install_case_insensitive_lookup() -> None:
    """Make moto's user lookup ignore case in pools created with `CaseSensitive: false`."""
    from moto.cognitoidp.models import CognitoIdpUserPool

    global _original_get_user
    if _original_get_user is None:
        _original_get_user = CognitoIdpUserPool._get_user
    original = _original_get_user

    def _get_user(pool: CognitoIdpUserPool, username: str) -> CognitoIdpUser | None:
        found = original(pool, username)
        if found is not None or case_sensitive(pool) or not isinstance(username, str):
            return found
        return _caseless_match(pool, username)

    CognitoIdpUserPool._get_user = _get_user  # type: ignore[method-assign]


def uninstall_case_insensitive_lookup() -> None:
    """Give moto its own exact lookup back."""
    from moto.cognitoidp.models import CognitoIdpUserPool

    global _original_get_user
    if _original_get_user is not None:
        CognitoIdpUserPool._get_user = _original_get_user  # type: ignore[method-assign]
        _original_get_user = None
