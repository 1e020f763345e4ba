"""The identity pool: the only module of this app that calls AWS (cognito-identity and STS).

Flows (cognito-facts 6.2): the enhanced flow (GetId, then GetCredentialsForIdentity), the basic
flow (GetId, GetOpenIdToken, then STS AssumeRoleWithWebIdentity), guests (GetId without logins),
and developer-authenticated identities (GetOpenIdTokenForDeveloperIdentity, signed with the app's
own credentials). Views see only this module's dataclasses and `IdentityError`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from accounts.tokens import TokenInvalid, token_validator
from config import aws

# The Logins key of an identity pool's own OpenID token (developer identities, enhanced flow).
OPENID_LOGIN = "cognito-identity.amazonaws.com"
SESSION_NAME = "cognito-reference-app"

FLOW_ENHANCED = "enhanced"
FLOW_BASIC = "basic"
FLOW_GUEST = "guest"
FLOW_DEVELOPER = "developer"
FLOW_LABELS_SHORT = {
    FLOW_ENHANCED: "enhanced flow (GetId, GetCredentialsForIdentity)",
    FLOW_BASIC: "basic flow (GetId, GetOpenIdToken, STS AssumeRoleWithWebIdentity)",
    FLOW_GUEST: "guest (unauthenticated identity, GetCredentialsForIdentity)",
    FLOW_DEVELOPER: "developer-authenticated identity (GetOpenIdTokenForDeveloperIdentity)",
}


class IdentityError(Exception):
    """A step of an identity flow failed; `code` says why, `status` is the HTTP status to answer."""

    def __init__(self, code: str, *, status: int = 400) -> None:
        super().__init__(code)
        self.code = code
        self.status = status


# AWS error codes of cognito-identity and STS, mapped to the app's codes and statuses.
_ERRORS: dict[str, tuple[str, int]] = {
    "NotAuthorizedException": ("not_authorized", 403),
    "AccessDenied": ("role_not_allowed", 403),
    "InvalidIdentityToken": ("not_authorized", 403),
    "ExpiredTokenException": ("token_expired", 401),
    "ResourceNotFoundException": ("identity_not_found", 404),
    "InvalidIdentityPoolConfigurationException": ("pool_misconfigured", 502),
    "InvalidParameterException": ("flow_not_allowed", 400),
    "ResourceConflictException": ("identity_conflict", 409),
    "TooManyRequestsException": ("throttled", 503),
    "LimitExceededException": ("throttled", 503),
    "Throttling": ("throttled", 503),  # STS's name for it
}


@dataclass(frozen=True)
class IdentityCredentials:
    """Temporary AWS credentials of one identity: which identity, which role, how obtained."""

    identity_id: str
    credentials: aws.StaticCredentials
    expires_at: float
    role_arn: str
    flow: str

    def expiring(self, margin: int) -> bool:
        return self.expires_at - time.time() <= margin


def user_pool_login(id_token: str) -> dict[str, str]:
    """The Logins map for a user pool's ID token, keyed as AWS names the provider."""
    provider = f"cognito-idp.{settings.AWS_REGION}.amazonaws.com/{settings.COGNITO_USER_POOL_ID}"
    return {provider: id_token}


@sensitive_variables("id_token")
def credentials_for_user(
    *, id_token: str, identity_id: str | None = None, role_arn: str | None = None
) -> IdentityCredentials:
    """A signed-in user's credentials through the configured flow (`COGNITO_IDENTITY_FLOW`)."""
    logins = user_pool_login(id_token)
    identity_id = identity_id or _get_id(logins)
    if settings.COGNITO_IDENTITY_FLOW == FLOW_BASIC:
        token = _call(
            "cognito-identity", "get_open_id_token", IdentityId=identity_id, Logins=logins
        )
        return _assume_role(
            identity_id, token["Token"], role_arn or settings.COGNITO_IDENTITY_ROLE_ARN
        )
    return _credentials_for_identity(identity_id, logins, FLOW_ENHANCED, role_arn=role_arn)


def credentials_for_guest(*, identity_id: str | None = None) -> IdentityCredentials:
    """Unauthenticated credentials (the pool's guest role), when the pool allows guests."""
    identity_id = identity_id or _get_id({})
    return _credentials_for_identity(identity_id, {}, FLOW_GUEST)


def credentials_for_developer_user(
    *, user_id: str, identity_id: str | None = None
) -> IdentityCredentials:
    """Credentials for a user the app vouches for itself, through its developer provider."""
    provider = settings.COGNITO_DEVELOPER_PROVIDER_NAME
    if not provider:
        raise IdentityError("developer_provider_not_configured", status=404)
    params: dict[str, Any] = {
        "IdentityPoolId": _pool_id(),
        "Logins": {provider: user_id},
    }
    if identity_id:
        params["IdentityId"] = identity_id
    # Signed with the app's own AWS credentials: only a trusted server may vouch for a user.
    token = _call("cognito-identity", "get_open_id_token_for_developer_identity", **params)
    logins = {OPENID_LOGIN: token["Token"]}
    return _credentials_for_identity(token["IdentityId"], logins, FLOW_DEVELOPER)


def _get_id(logins: dict[str, str]) -> str:
    params: dict[str, Any] = {"IdentityPoolId": _pool_id()}
    if logins:
        params["Logins"] = logins
    return _call("cognito-identity", "get_id", **params)["IdentityId"]


def _credentials_for_identity(
    identity_id: str, logins: dict[str, str], flow: str, *, role_arn: str | None = None
) -> IdentityCredentials:
    params: dict[str, Any] = {"IdentityId": identity_id}
    if logins:
        params["Logins"] = logins
    if role_arn:
        params["CustomRoleArn"] = role_arn
    answer = _call("cognito-identity", "get_credentials_for_identity", **params)
    raw = answer["Credentials"]
    credentials = aws.StaticCredentials(
        access_key_id=raw["AccessKeyId"],
        secret_access_key=raw["SecretKey"],  # cognito-identity says SecretKey, STS says more
        session_token=raw["SessionToken"],
    )
    # The enhanced flow does not say which role it chose; the credentials themselves do.
    caller = _call("sts", "get_caller_identity", credentials=credentials)
    return IdentityCredentials(
        identity_id=answer["IdentityId"],
        credentials=credentials,
        expires_at=raw["Expiration"].timestamp(),
        role_arn=_role_arn_of(caller["Arn"]),
        flow=flow,
    )


def _assume_role(identity_id: str, token: str, role_arn: str) -> IdentityCredentials:
    if not role_arn:
        raise IdentityError("basic_flow_needs_a_role", status=500)
    answer = _call(
        "sts",
        "assume_role_with_web_identity",
        RoleArn=role_arn,
        RoleSessionName=SESSION_NAME,
        WebIdentityToken=token,
    )
    raw = answer["Credentials"]
    return IdentityCredentials(
        identity_id=identity_id,
        credentials=aws.StaticCredentials(
            access_key_id=raw["AccessKeyId"],
            secret_access_key=raw["SecretAccessKey"],
            session_token=raw["SessionToken"],
        ),
        expires_at=raw["Expiration"].timestamp(),
        role_arn=role_arn,
        flow=FLOW_BASIC,
    )


def _role_arn_of(assumed_role_arn: str) -> str:
    """`arn:aws:sts::123:assumed-role/<role>/<session>` -> `arn:aws:iam::123:role/<role>`."""
    prefix, _, rest = assumed_role_arn.partition(":assumed-role/")
    parts = prefix.split(":")
    if not rest or len(parts) != 5:
        return ""
    return f"arn:{parts[1]}:iam::{parts[4]}:role/{rest.split('/', 1)[0]}"


def token_roles(*, id_token: str) -> tuple[str, ...]:
    """The roles a verified ID token offers (`cognito:roles`, from the user's groups)."""
    try:
        claims = token_validator().validate_id_token(id_token)
    except TokenInvalid:
        return ()
    roles = claims.get("cognito:roles") or []
    return tuple(str(role) for role in roles)


def _pool_id() -> str:
    if not settings.COGNITO_IDENTITY_POOL_ID:
        raise IdentityError("identity_pool_not_configured", status=404)
    return settings.COGNITO_IDENTITY_POOL_ID


@sensitive_variables("params")
def _call(
    service: str,
    operation: str,
    *,
    credentials: aws.StaticCredentials | None = None,
    **params: Any,
) -> dict[str, Any]:
    """One AWS call, with AWS's errors turned into `IdentityError`."""
    client = aws.client(service, credentials=credentials)
    try:
        return getattr(client, operation)(**params)
    except ClientError as error:
        aws_code = error.response.get("Error", {}).get("Code", "")
        code, status = _ERRORS.get(aws_code, ("identity_failed", 502))
        if aws_code not in _ERRORS and _http_status(error) >= 500:
            # InternalErrorException, STS's InternalFailure: AWS's fault, worth a retry later.
            code, status = "identity_unavailable", 503
        raise IdentityError(code, status=status) from None
    except BotoCoreError:
        raise IdentityError("identity_unavailable", status=503) from None


def _http_status(error: ClientError) -> int:
    return error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
