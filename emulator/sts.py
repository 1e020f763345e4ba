"""STS for identity pools: credentials the emulator mints and remembers, and a checked
AssumeRoleWithWebIdentity (moto's accepts any token for any role)."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from io import BytesIO
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

import jwt
from werkzeug.wrappers import Request, Response

from emulator import iam, openid, seed

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

    from emulator.state import EmulatorState

DEFAULT_DURATION = 3600
WEB_IDENTITY_PROVIDER = "cognito-identity.amazonaws.com"
_NS = "https://sts.amazonaws.com/doc/2011-06-15/"


class StsError(Exception):
    """An STS error: `<ErrorResponse>` XML with the code, HTTP 400 or 403."""

    code = "InvalidParameterValue"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AccessDenied(StsError):
    code = "AccessDenied"
    status = 403


class InvalidIdentityToken(StsError):
    code = "InvalidIdentityToken"


class ExpiredToken(StsError):
    code = "ExpiredTokenException"


@dataclass(frozen=True)
class Session:
    """Temporary credentials the emulator minted, and what IAM needs to evaluate their requests."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    role_arn: str
    expires_at: float
    # Policy variables and condition keys, e.g. `cognito-identity.amazonaws.com:sub`.
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def expired(self) -> bool:
        return time.time() >= self.expires_at


class SessionStore:
    """Every session minted since the last reset, by access key id."""

    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def get(self, access_key_id: str) -> Session | None:
        return self._sessions.get(access_key_id)

    def add(self, session: Session) -> None:
        with self._lock:
            self._sessions[session.access_key_id] = session

    def expire(self, access_key_id: str) -> None:
        """End a session now (tests use it to see renewals)."""
        with self._lock:
            session = self._sessions[access_key_id]
            self._sessions[access_key_id] = replace(session, expires_at=time.time() - 1)

    def clear(self) -> None:
        with self._lock:
            self._sessions.clear()


def mint(
    state: EmulatorState,
    *,
    role_arn: str,
    session_name: str,
    context: dict[str, Any],
    duration: int = DEFAULT_DURATION,
) -> Session:
    """Credentials for `role_arn` from moto's STS (so GetCallerIdentity knows them), kept here."""
    from moto.sts.models import sts_backends

    assumed = sts_backends[seed.ACCOUNT_ID]["aws"].assume_role_with_web_identity(
        region_name=seed.REGION,
        role_session_name=session_name,
        role_arn=role_arn,
        policy=None,
        duration=duration,
        external_id=None,
    )
    session = Session(
        access_key_id=assumed.access_key_id,
        secret_access_key=assumed.secret_access_key,
        session_token=assumed.session_token,
        role_arn=role_arn,
        expires_at=time.time() + duration,
        context=context,
    )
    state.sessions.add(session)
    return session


def trust_allows(role_arn: str, claims: dict[str, Any]) -> bool:
    """Whether the role's trust policy lets an identity pool token with these claims assume it."""
    role = iam.role_by_arn(role_arn)
    if role is None:
        return False
    decision = iam.evaluate(
        [iam.trust_policy(role)],
        action="sts:AssumeRoleWithWebIdentity",
        resource=role_arn,
        context=token_context(claims),
        principal=("Federated", WEB_IDENTITY_PROVIDER),
    )
    return decision.allowed


def token_context(claims: dict[str, Any]) -> dict[str, Any]:
    """The condition keys and policy variables an identity pool token brings."""
    amr = claims.get("amr") or []
    return {
        f"{WEB_IDENTITY_PROVIDER}:aud": str(claims.get("aud", "")),
        f"{WEB_IDENTITY_PROVIDER}:sub": str(claims.get("sub", "")),
        f"{WEB_IDENTITY_PROVIDER}:amr": [str(value) for value in amr],
    }


def is_web_identity_call(environ: WSGIEnvironment) -> bool:
    """A query-protocol `AssumeRoleWithWebIdentity` POST (the body is put back for moto)."""
    if environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO", "/") != "/":
        return False
    if "x-www-form-urlencoded" not in environ.get("CONTENT_TYPE", ""):
        return False
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = BytesIO(body)
    return b"Action=AssumeRoleWithWebIdentity" in body


def assume_role_with_web_identity(state: EmulatorState, request: Request) -> Response:
    """Check the token (signature, issuer, expiry) and the role's trust policy, then mint."""
    try:
        params = _form(request)
        claims = _verified_claims(params.get("WebIdentityToken", ""))
        role_arn = params.get("RoleArn", "")
        if not trust_allows(role_arn, claims):
            raise AccessDenied("Not authorized to perform sts:AssumeRoleWithWebIdentity")
        duration = int(params.get("DurationSeconds") or DEFAULT_DURATION)
        session_name = params.get("RoleSessionName") or "web-identity"
        session = mint(
            state,
            role_arn=role_arn,
            session_name=session_name,
            context=token_context(claims),
            duration=duration,
        )
    except StsError as error:
        return _error(error)
    expiration = datetime.fromtimestamp(session.expires_at, tz=UTC)
    role_name = role_arn.rsplit("/", 1)[-1]
    body = f"""<AssumeRoleWithWebIdentityResponse xmlns="{_NS}">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>{escape(claims["sub"])}</SubjectFromWebIdentityToken>
    <Audience>{escape(str(claims["aud"]))}</Audience>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::{seed.ACCOUNT_ID}:assumed-role/{escape(role_name)}/{escape(session_name)}</Arn>
      <AssumedRoleId>AROA{uuid.uuid4().hex[:17].upper()}:{escape(session_name)}</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>{session.access_key_id}</AccessKeyId>
      <SecretAccessKey>{session.secret_access_key}</SecretAccessKey>
      <SessionToken>{session.session_token}</SessionToken>
      <Expiration>{expiration.strftime("%Y-%m-%dT%H:%M:%SZ")}</Expiration>
    </Credentials>
    <Provider>{WEB_IDENTITY_PROVIDER}</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>"""
    return Response(body, status=200, content_type="text/xml")


def _form(request: Request) -> dict[str, str]:
    parsed = parse_qs(request.get_data(as_text=True), keep_blank_values=True)
    return {name: values[0] for name, values in parsed.items()}


def _verified_claims(token: str) -> dict[str, Any]:
    if not token:
        raise InvalidIdentityToken("No web identity token was given.")
    try:
        return openid.decode(token)
    except jwt.ExpiredSignatureError:
        raise ExpiredToken("Token expired.") from None
    except jwt.InvalidTokenError:
        raise InvalidIdentityToken("Couldn't verify the web identity token.") from None


def _error(error: StsError) -> Response:
    body = f"""<ErrorResponse xmlns="{_NS}">
  <Error><Type>Sender</Type><Code>{error.code}</Code><Message>{escape(error.message)}</Message></Error>
  <RequestId>{uuid.uuid4()}</RequestId>
</ErrorResponse>"""
    return Response(body, status=error.status, content_type="text/xml")
