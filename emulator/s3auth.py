"""S3 that enforces IAM for identity-pool credentials (moto's S3 lets any request through).

A request signed with credentials the emulator minted is checked as AWS checks it: the session
exists and has not expired, the session token matches, the SigV4 signature is right, and the
role's policies allow the action on the resource, with the request's condition keys
(`s3:prefix`...) and the session's policy variables (`${cognito-identity.amazonaws.com:sub}`).
An anonymous request to a bucket is denied. A request signed with the account's own long-term keys
(the app's and the tests' admin access) must carry their right signature, then goes to moto
unchanged; any other access key is refused with `InvalidAccessKeyId`, as on AWS.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import escape

from werkzeug.wrappers import Request, Response

from emulator import iam, seed, sigv4

if TYPE_CHECKING:
    from emulator.state import EmulatorState

_MESSAGES = {
    "AccessDenied": "Access Denied",
    "InvalidAccessKeyId": "The AWS Access Key Id you provided does not exist in our records.",
    "ExpiredToken": "The provided token has expired.",
    "InvalidToken": "The provided token is malformed or otherwise invalid.",
}
_STATUS = {
    "ExpiredToken": 400,
    "InvalidToken": 400,
    "AuthorizationHeaderMalformed": 400,
    "AuthorizationQueryParametersError": 400,
    "XAmzContentSHA256Mismatch": 400,
    "InvalidRequest": 400,
}


@dataclass(frozen=True)
class S3Request:
    """What an S3 request asks: the IAM action, the resource ARN and its condition keys."""

    action: str
    resource: str
    context: dict[str, str]
    extra: tuple[tuple[str, str], ...] = ()  # further (action, resource) pairs, e.g. a copy source


def is_s3_request(request: Request) -> bool:
    """Signed for the `s3` service, or unsigned REST (moto answers those as S3; not its own API)."""
    try:
        signed = sigv4.signed_request(request)
    except sigv4.SignatureError:
        scope = request.headers.get("Authorization", "") or request.args.get("X-Amz-Credential", "")
        return "/s3/aws4_request" in scope
    if signed is not None:
        return signed.service == "s3"
    return not request.path.startswith("/moto-api")


def check(state: EmulatorState, request: Request) -> Response | None:
    """None when the request may go on to moto; otherwise S3's XML error answer."""
    try:
        signed = sigv4.signed_request(request)
    except sigv4.SignatureError as error:
        return error_response(request, error.code, error.message)
    if signed is None:
        return _anonymous(request)
    account_secret = state.access_keys.get(signed.access_key_id)
    if account_secret is not None and not signed.session_token:
        try:
            sigv4.verify(request, signed, secret_key=account_secret)
        except sigv4.SignatureError as error:
            return error_response(request, error.code, error.message)
        return None  # the account's own long-term keys: full access, as the account's owner
    session = state.sessions.get(signed.access_key_id)
    if session is None:
        return error_response(request, "InvalidAccessKeyId")
    if signed.session_token != session.session_token:
        return error_response(request, "InvalidToken")
    if session.expired:
        return error_response(request, "ExpiredToken")
    try:
        sigv4.verify(request, signed, secret_key=session.secret_access_key)
    except sigv4.SignatureError as error:
        return error_response(request, error.code, error.message)
    role = iam.role_by_arn(session.role_arn)
    if role is None:
        return error_response(request, "AccessDenied")
    policies = iam.role_policies(role)
    wanted = s3_request(request)
    context = {**session.context, **wanted.context}
    for action, resource in ((wanted.action, wanted.resource), *wanted.extra):
        if not iam.evaluate(policies, action=action, resource=resource, context=context).allowed:
            return error_response(request, "AccessDenied")
    return None


def _anonymous(request: Request) -> Response | None:
    """No bucket here allows anonymous access; reading one that does not exist is NoSuchBucket."""
    if request.headers.get("Authorization"):  # SigV2 or anything else that is not SigV4
        return error_response(
            request,
            "InvalidRequest",
            "The authorization mechanism you have provided is not supported. "
            "Please use AWS4-HMAC-SHA256.",
        )
    bucket, _ = bucket_and_key(request)
    if request.method in ("GET", "HEAD") and bucket and bucket not in _buckets():
        return None  # moto answers NoSuchBucket, as S3 answers anyone
    return error_response(request, "AccessDenied")


def bucket_and_key(request: Request) -> tuple[str, str]:
    """Bucket and key, path-style (`/bucket/key`) or virtual-hosted (`bucket.localhost`)."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.path
    path = unquote(urlsplit(raw).path)
    host = request.host.split(":", 1)[0]
    if host.endswith(".localhost"):
        return host.removesuffix(".localhost"), path.lstrip("/")
    bucket, _, key = path.lstrip("/").partition("/")
    return bucket, key


def s3_request(request: Request) -> S3Request:
    """The IAM action and resource of an S3 REST request."""
    bucket, key = bucket_and_key(request)
    method, args = request.method, request.args
    if not bucket:
        return S3Request("s3:ListAllMyBuckets", "arn:aws:s3:::*", {})
    if not key:
        return _bucket_request(method, args, bucket)
    resource = f"arn:aws:s3:::{bucket}/{key}"
    if method in ("GET", "HEAD"):
        action = (
            "s3:GetObjectAcl"
            if "acl" in args
            else "s3:GetObjectTagging"
            if "tagging" in args
            else "s3:GetObject"
        )
        return S3Request(action, resource, {})
    if method == "DELETE":
        return S3Request(
            "s3:AbortMultipartUpload" if "uploadId" in args else "s3:DeleteObject", resource, {}
        )
    if "acl" in args:
        return S3Request("s3:PutObjectAcl", resource, {})
    if "tagging" in args:
        return S3Request("s3:PutObjectTagging", resource, {})
    copy_source = request.headers.get("x-amz-copy-source")
    extra: tuple[tuple[str, str], ...] = ()
    if copy_source:
        source = unquote(copy_source.split("?", 1)[0]).lstrip("/")
        extra = (("s3:GetObject", f"arn:aws:s3:::{source}"),)
    return S3Request("s3:PutObject", resource, {}, extra)


def _bucket_request(method: str, args: object, bucket: str) -> S3Request:
    resource = f"arn:aws:s3:::{bucket}"
    subresources = {
        "location": "GetBucketLocation",
        "versions": "ListBucketVersions",
        "uploads": "ListBucketMultipartUploads",
        "acl": "GetBucketAcl",
        "policy": "GetBucketPolicy",
        "cors": "GetBucketCORS",
    }
    if method in ("GET", "HEAD"):
        for name, action in subresources.items():
            if name in args:  # type: ignore[operator]
                return S3Request(f"s3:{action}", resource, {})
        context = {}
        for name in ("prefix", "delimiter", "max-keys"):
            value = args.get(name)  # type: ignore[attr-defined]
            if value is not None:
                context[f"s3:{name}"] = value
        return S3Request("s3:ListBucket", resource, context)
    if method == "POST" and "delete" in args:  # type: ignore[operator]
        return S3Request("s3:DeleteObject", f"{resource}/*", {})
    if method == "DELETE":
        return S3Request("s3:DeleteBucket", resource, {})
    return S3Request("s3:CreateBucket" if not args else "s3:PutBucketPolicy", resource, {})


def error_response(request: Request, code: str, message: str | None = None) -> Response:
    """S3's XML error; a HEAD gets the status only, as S3 answers it."""
    status = _STATUS.get(code, 403)
    request_id = uuid.uuid4().hex[:16].upper()
    if request.method == "HEAD":
        response = Response(b"", status=status)
    else:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{escape(message or _MESSAGES.get(code, code))}"
            f"</Message><RequestId>{request_id}</RequestId><HostId>{seed.ACCOUNT_ID}</HostId></Error>"
        )
        response = Response(body, status=status, content_type="application/xml")
    response.headers["x-amz-request-id"] = request_id
    return response


def _buckets() -> dict[str, object]:
    from moto.s3.models import s3_backends

    return s3_backends[seed.ACCOUNT_ID]["aws"].buckets
