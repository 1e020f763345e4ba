"""Errors the emulator's endpoints answer with, one small class per OAuth2 or Cognito error code."""

from __future__ import annotations


class OAuthError(Exception):
    """An OAuth2 error answered as JSON `{"error": code}` (RFC 6749 section 5.2)."""

    code = "invalid_request"
    status = 400

    def __init__(self, description: str = "") -> None:
        super().__init__(description or self.code)
        self.description = description


class InvalidRequest(OAuthError):
    code = "invalid_request"


class InvalidClient(OAuthError):
    code = "invalid_client"

    def __init__(self, description: str = "", *, basic: bool = False) -> None:
        super().__init__(description)
        # A failed `Authorization: Basic` is answered 401 with a challenge (RFC 6749 5.2).
        self.basic = basic
        self.status = 401 if basic else 400


class InvalidGrant(OAuthError):
    code = "invalid_grant"


class UnauthorizedClient(OAuthError):
    code = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    code = "unsupported_grant_type"


class UnsupportedTokenType(OAuthError):
    code = "unsupported_token_type"


class InvalidScope(OAuthError):
    code = "invalid_scope"


class UnsupportedResponseType(OAuthError):
    code = "unsupported_response_type"


class LoginRequired(OAuthError):
    code = "login_required"


class InvalidToken(Exception):
    """A bearer token the userInfo endpoint refuses (401, in `WWW-Authenticate`)."""

    code = "invalid_token"
    status = 401

    def __init__(
        self,
        description: str = "Access token is expired, disabled, or deleted,"
        " or the user has globally signed out.",
    ) -> None:
        super().__init__(description)
        self.description = description


class BadBearerRequest(InvalidToken):
    """A userInfo request without a usable bearer token (400, in `WWW-Authenticate`)."""

    code = "invalid_request"
    status = 400

    def __init__(self, description: str = "Bad OAuth2 request at UserInfo Endpoint") -> None:
        super().__init__(description)


class ErrorPage(Exception):
    """A request the managed login cannot send back to the app: rendered as the /error page."""

    def __init__(self, code: str, *, client_id: str = "", redirect: bool = False) -> None:
        super().__init__(code)
        self.code = code
        self.client_id = client_id
        # Cognito answers some of these with a 302 to /error, others with the page itself.
        self.redirect = redirect


class AuthorizeRedirectError(Exception):
    """An authorize error that goes back to the (registered) redirect_uri as `?error=...`."""

    def __init__(self, error: OAuthError, *, redirect_uri: str, state: str | None) -> None:
        super().__init__(error.code)
        self.error = error
        self.redirect_uri = redirect_uri
        self.state = state


class CognitoError(Exception):
    """A Cognito JSON-API error: HTTP 400 with `__type` and `message`."""

    code = "InvalidParameterException"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAuthorized(CognitoError):
    code = "NotAuthorizedException"


class ResourceNotFound(CognitoError):
    code = "ResourceNotFoundException"


class InvalidParameter(CognitoError):
    code = "InvalidParameterException"


class UnsupportedTokenTypeException(CognitoError):
    code = "UnsupportedTokenTypeException"


class Unauthorized(CognitoError):
    code = "UnauthorizedException"


class UserNotFound(CognitoError):
    code = "UserNotFoundException"


class UserNotConfirmed(CognitoError):
    code = "UserNotConfirmedException"


class PasswordResetRequired(CognitoError):
    code = "PasswordResetRequiredException"


class UsernameExists(CognitoError):
    code = "UsernameExistsException"


class InvalidPassword(CognitoError):
    code = "InvalidPasswordException"


class CodeMismatch(CognitoError):
    code = "CodeMismatchException"


class ExpiredCode(CognitoError):
    code = "ExpiredCodeException"


class LimitExceeded(CognitoError):
    code = "LimitExceededException"


class EnableSoftwareTokenMFA(CognitoError):
    code = "EnableSoftwareTokenMFAException"


class RefreshTokenReuse(CognitoError):
    code = "RefreshTokenReuseException"


class InvalidLambdaResponse(CognitoError):
    code = "InvalidLambdaResponseException"
