"""Who signed an AWS API call: SigV4 checked for every key, as AWS checks it, in front of moto.

moto accepts any access key and any signature. Here a signed call must name a key the emulator
knows (the account's configured long-term keys, or temporary credentials it minted for an
identity pool) and carry the signature that key's secret makes; an unsigned call is only let
through for the operations AWS serves without credentials (`"authtype": "none"` in botocore's
service models: InitiateAuth, SignUp, GetId, GetCredentialsForIdentity,
AssumeRoleWithWebIdentity...). Each refusal is the error its protocol answers on AWS.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from werkzeug.wrappers import Request, Response

from emulator import iam, sigv4
from emulator.responses import AMZ_JSON, json_response

if TYPE_CHECKING:
    from emulator.state import EmulatorState
    from emulator.sts import Session

# botocore's names for the services whose JSON operations arrive with an X-Amz-Target prefix.
JSON_TARGETS = {
    "AWSCognitoIdentityProviderService": "cognito-idp",
    "AWSCognitoIdentityService": "cognito-identity",
}
QUERY_SERVICES = ("sts", "iam")
# Needs no permission on AWS: any valid credentials may ask who they are.
ALWAYS_ALLOWED = {("sts", "GetCallerIdentity")}

# The error each failure gets, per protocol: JSON services (cognito-idp, cognito-identity) and
# query services (IAM, STS), as their APIs answer (AWS "Common Errors"; botocore's models).
_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
_INVALID_TOKEN = "The security token included in the request is invalid."
_JSON_ERRORS = {
    "missing": ("MissingAuthenticationTokenException", 403, "Missing Authentication Token"),
    "malformed": ("IncompleteSignatureException", 400, None),
    "unknown_key": ("UnrecognizedClientException", 400, _INVALID_TOKEN),
    "bad_signature": ("InvalidSignatureException", 400, _SIGNATURE_MISMATCH),
    "stale": ("InvalidSignatureException", 400, None),
    "expired_token": (
        "ExpiredTokenException",
        400,
        "The security token included in the request is expired",
    ),
    "denied": ("AccessDeniedException", 400, None),
}
_QUERY_ERRORS = {
    "missing": ("MissingAuthenticationToken", 403, "Request is missing Authentication Token"),
    "malformed": ("IncompleteSignature", 400, None),
    "unknown_key": ("InvalidClientTokenId", 403, _INVALID_TOKEN),
    "bad_signature": ("SignatureDoesNotMatch", 403, _SIGNATURE_MISMATCH),
    "stale": ("SignatureDoesNotMatch", 403, None),
    "expired_token": ("ExpiredToken", 400, "The security token included in the request is expired"),
    "denied": ("AccessDenied", 403, None),
}


class AuthError(Exception):
    """The call is refused; `kind` names why (see `_JSON_ERRORS`), `message` says it in detail."""

    def __init__(self, kind: str, message: str = "") -> None:
        super().__init__(message or kind)
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class Caller:
    """A verified signer: the account's own key, or a minted session (IAM applies to it)."""

    access_key_id: str
    session: Session | None = None


@dataclass(frozen=True)
class ApiCall:
    """An AWS API call: its service, protocol (`json` or `query`) and operation name."""

    service: str
    protocol: str
    operation: str


@cache
def unsigned_operations(service: str) -> frozenset[str]:
    """The operations of `service` that AWS serves without a signature, from botocore's model."""
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    names = set()
    for name in model.operation_names:
        spec = model.operation_model(name)
        if spec.auth_type == "none" or spec.metadata.get("auth") == ["smithy.api#noAuth"]:
            names.add(name)
    return frozenset(names)


def api_call(request: Request) -> ApiCall | None:
    """The API call a request makes, or None when it is no AWS API call (S3 is handled apart)."""
    target = request.headers.get("X-Amz-Target", "")
    if target:
        prefix, _, operation = target.partition(".")
        service = JSON_TARGETS.get(prefix, prefix)
        return ApiCall(service, "json", operation)
    action = request.args.get("Action") or _form(request).get("Action")
    if action:
        return ApiCall(_query_service(request), "query", action)
    return None


def authenticate(state: EmulatorState, request: Request, call: ApiCall | None) -> Caller | None:
    """The verified caller, or None for an unsigned call AWS allows; `AuthError` otherwise."""
    if call is not None and call.operation in _unsigned(call.service):
        return None  # served without credentials on AWS, whatever the request carries
    try:
        signed = sigv4.signed_request(request)
    except sigv4.SignatureError as error:
        raise AuthError("malformed", error.message) from None
    if signed is None:
        raise AuthError("missing")
    return verified_caller(state, request, signed)


def verified_caller(state: EmulatorState, request: Request, signed: sigv4.SignedRequest) -> Caller:
    """Check the key, the session token and the signature of a signed request."""
    secret = state.access_keys.get(signed.access_key_id)
    session = None
    if secret is not None and signed.session_token:
        raise AuthError("unknown_key")  # a long-term key never comes with a session token
    if secret is None:
        session = state.sessions.get(signed.access_key_id)
        if session is None:
            raise AuthError("unknown_key")
        if signed.session_token != session.session_token:
            raise AuthError("unknown_key")
        if session.expired:
            raise AuthError("expired_token")
        secret = session.secret_access_key
    try:
        sigv4.verify(request, signed, secret_key=secret)
    except sigv4.SignatureError as error:
        kind = "bad_signature" if error.code == "SignatureDoesNotMatch" else "stale"
        raise AuthError(kind, error.message) from None
    return Caller(signed.access_key_id, session)


def authorize(caller: Caller | None, call: ApiCall | None) -> None:
    """Minted sessions are held to their role's policies on every service, not only S3."""
    if caller is None or caller.session is None:
        return
    if call is not None and (call.service, call.operation) in ALWAYS_ALLOWED:
        return
    # A REST call this emulator cannot name (not S3) is granted to no role.
    action = f"{call.service}:{call.operation}" if call is not None else "unknown:Unknown"
    role = iam.role_by_arn(caller.session.role_arn)
    policies = iam.role_policies(role) if role is not None else []
    decision = iam.evaluate(policies, action=action, resource="*", context=caller.session.context)
    if not decision.allowed:
        raise AuthError(
            "denied",
            f"User: {caller.session.role_arn} is not authorized to perform: {action}",
        )


def error_response(call: ApiCall | None, error: AuthError) -> Response:
    """The refusal in the call's protocol: a JSON `__type` or a query `<ErrorResponse>`."""
    protocol = call.protocol if call is not None else "query"
    errors = _JSON_ERRORS if protocol == "json" else _QUERY_ERRORS
    code, status, fixed = errors[error.kind]
    message = fixed or error.message or code
    if protocol == "json":
        response = json_response(
            {"__type": code, "message": message}, status=status, content_type=AMZ_JSON
        )
        response.headers["x-amzn-ErrorType"] = f"{code}:"
        return response
    body = (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        f"<Error><Type>Sender</Type><Code>{code}</Code><Message>{escape(message)}</Message>"
        f"</Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )
    return Response(body, status=status, content_type="text/xml")


def _unsigned(service: str) -> frozenset[str]:
    try:
        return unsigned_operations(service)
    except Exception:  # a service botocore does not know has no public operations
        return frozenset()


def _query_service(request: Request) -> str:
    """IAM or STS: from the signature's scope, else STS (the only one with unsigned calls)."""
    try:
        signed = sigv4.signed_request(request)
    except sigv4.SignatureError:
        signed = None
    if signed is not None and signed.service in QUERY_SERVICES:
        return signed.service
    return "sts"


def _form(request: Request) -> dict[str, str]:
    if request.method != "POST" or "x-www-form-urlencoded" not in (request.content_type or ""):
        return {}
    parsed = parse_qs(request.get_data(cache=True, as_text=True), keep_blank_values=True)
    return {name: values[0] for name, values in parsed.items()}
