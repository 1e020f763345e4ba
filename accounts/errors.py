"""The failures of every boundary, and the HTTP status each failure code answers with.

Each boundary raises one error type, once: `TokenInvalid` (the token validator, accounts.tokens),
`ManagedLoginError` (the token endpoint, accounts.services), `UserPoolError` (the user pools API,
signin.services). They carry a `code` only; forms map the code to a message (`error_messages`)
and read its status here, so a status is decided in this one table.
"""

from __future__ import annotations

# Codes not listed answer 400: the user's input or the user's account is the reason.
STATUS_BY_CODE = {
    # The user or the account, but it ended the session.
    "identity_changed": 401,
    "session_ended": 401,
    "refresh_lost": 401,
    "refresh_token_reused": 401,
    "token_revoked": 401,
    # Too many tries.
    "rate_limited": 429,
    "throttled": 429,
    "locked_out": 429,
    "too_many_failed_attempts": 429,
    # The pool, its token endpoint or its keys: not the user's fault.
    "token_endpoint_error": 502,
    "incomplete_token_response": 502,
    "revoke_failed": 502,
    "unsupported_challenge": 502,
    "unsupported_operation": 502,
    "timeout": 503,
    "unreachable": 503,
    "unavailable": 503,
    "jwks_unavailable": 503,
    "code_delivery_failed": 503,
    "unexpected": 500,
}


def status_of(code: str) -> int:
    """The HTTP status a page answers with when it fails for `code`."""
    return STATUS_BY_CODE.get(code, 400)


class BoundaryError(Exception):
    """A call across one of the app's boundaries failed; `code` names why."""

    # The message key (a form's `error_messages`) for a code the form does not name.
    fallback = "unexpected"

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    @property
    def status(self) -> int:
        return status_of(self.code)
