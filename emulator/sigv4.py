"""SigV4 as AWS checks it: the canonical request rebuilt, the signature recomputed.

moto accepts any signature. The emulator checks every signed request the way AWS does, with the
secret of the key it names (the account's configured keys, or identity pool sessions it minted):
header-signed (`Authorization: AWS4-HMAC-SHA256 ...`) or presigned (`X-Amz-Signature` in the query).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from calendar import timegm
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote

from werkzeug.wrappers import Request

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
# AWS refuses requests whose X-Amz-Date is more than 15 minutes away from its clock.
MAX_SKEW_SECONDS = 15 * 60
# A presigned URL lives at most seven days.
MAX_PRESIGNED_SECONDS = 7 * 24 * 60 * 60
_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<headers>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]+)"
)


class SignatureError(Exception):
    """The request's signature is missing, malformed, stale or wrong; `code` is S3's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class SignedRequest:
    """What a SigV4 request claims: who signed it, for which scope, and the signature parts."""

    access_key_id: str
    date: str
    region: str
    service: str
    amz_date: str
    signed_headers: tuple[str, ...]
    signature: str
    session_token: str | None
    presigned: bool
    expires: int | None

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


def signed_request(request: Request) -> SignedRequest | None:
    """The SigV4 claims of a request, or None when it is not signed (anonymous)."""
    authorization = request.headers.get("Authorization", "")
    if authorization.startswith(ALGORITHM):
        match = _AUTHORIZATION.match(authorization)
        if not match:
            raise SignatureError(
                "AuthorizationHeaderMalformed", "The authorization header is malformed."
            )
        credential = match.group("credential")
        amz_date = request.headers.get("X-Amz-Date", "")
        return _claims(
            credential,
            amz_date=amz_date,
            signed_headers=match.group("headers"),
            signature=match.group("signature"),
            session_token=request.headers.get("X-Amz-Security-Token"),
            presigned=False,
            expires=None,
        )
    if request.args.get("X-Amz-Algorithm") == ALGORITHM:
        try:
            expires = int(request.args.get("X-Amz-Expires", ""))
        except ValueError:
            raise SignatureError(
                "AuthorizationQueryParametersError", "X-Amz-Expires must be a number."
            ) from None
        if not 0 < expires <= MAX_PRESIGNED_SECONDS:
            raise SignatureError(
                "AuthorizationQueryParametersError",
                "X-Amz-Expires must be less than a week (in seconds) that is; 604800",
            )
        return _claims(
            request.args.get("X-Amz-Credential", ""),
            amz_date=request.args.get("X-Amz-Date", ""),
            signed_headers=request.args.get("X-Amz-SignedHeaders", ""),
            signature=request.args.get("X-Amz-Signature", ""),
            session_token=request.args.get("X-Amz-Security-Token"),
            presigned=True,
            expires=expires,
        )
    return None


def _claims(credential: str, **fields: object) -> SignedRequest:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not fields["amz_date"]:
        raise SignatureError("AuthorizationHeaderMalformed", "The credential scope is malformed.")
    headers = str(fields.pop("signed_headers"))
    return SignedRequest(
        access_key_id=parts[0],
        date=parts[1],
        region=parts[2],
        service=parts[3],
        signed_headers=tuple(headers.split(";")),
        **fields,  # type: ignore[arg-type]
    )


def verify(request: Request, signed: SignedRequest, *, secret_key: str) -> None:
    """Recompute the signature with `secret_key`; raise `SignatureError` unless it matches."""
    request_time = _parse_amz_date(signed.amz_date)
    now = time.time()
    if signed.presigned:
        if signed.expires is None or now > request_time + signed.expires:
            raise SignatureError("AccessDenied", "Request has expired")
        if request_time > now + MAX_SKEW_SECONDS:
            raise SignatureError("AccessDenied", "Request is not valid yet")
    elif abs(now - request_time) > MAX_SKEW_SECONDS:
        raise SignatureError(
            "RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.",
        )
    if not signed.amz_date.startswith(signed.date):
        raise SignatureError("AuthorizationHeaderMalformed", "The credential date is wrong.")
    canonical = canonical_request(request, signed)
    string_to_sign = "\n".join(
        [ALGORITHM, signed.amz_date, signed.scope, _sha256(canonical.encode())]
    )
    key = signing_key(secret_key, signed.date, signed.region, signed.service)
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signed.signature.encode()):
        raise SignatureError(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )


def canonical_request(request: Request, signed: SignedRequest) -> str:
    """The canonical request (method, path, query, signed headers, payload hash) of SigV4."""
    raw_path = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.path
    path, _, raw_query = raw_path.partition("?")
    query = [
        (name, value)
        for name, value in parse_qsl(raw_query, keep_blank_values=True)
        if not (signed.presigned and name == "X-Amz-Signature")
    ]
    canonical_query = "&".join(
        f"{_uri_encode(name)}={_uri_encode(value)}" for name, value in sorted(query)
    )
    if signed.service != "s3":
        # Every service but S3 normalizes the path and encodes it twice.
        path = quote(path, safe="/~")
    headers = []
    for name in signed.signed_headers:
        value = request.headers.get(name)
        if value is None:
            raise SignatureError(
                "AccessDenied",
                f"There were headers present in the request which were not signed: {name}",
            )
        headers.append(f"{name}:{' '.join(value.split())}\n")
    return "\n".join(
        [
            request.method,
            path or "/",
            canonical_query,
            "".join(headers),
            ";".join(signed.signed_headers),
            payload_hash(request, signed),
        ]
    )


def payload_hash(request: Request, signed: SignedRequest) -> str:
    """The hash that was signed; a declared S3 hash must also match the body that arrived."""
    if signed.presigned:
        return UNSIGNED_PAYLOAD
    declared = request.headers.get("X-Amz-Content-SHA256")
    body_hash = _sha256(request.get_data(cache=True))
    if declared is None:
        return body_hash
    checked = declared != UNSIGNED_PAYLOAD and not declared.startswith("STREAMING-")
    if checked and declared != body_hash:
        raise SignatureError(
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )
    return declared


def signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret_key}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _parse_amz_date(amz_date: str) -> float:
    try:
        return float(timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ")))
    except ValueError:
        raise SignatureError("AccessDenied", "X-Amz-Date is not a valid timestamp.") from None


def _uri_encode(value: str) -> str:
    return quote(value, safe="-_.~")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
