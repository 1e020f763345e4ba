"""Cognito's SRP-6a, server side: per-user salts and verifiers, B, and the password claim check.

The constants and encodings are Cognito's (cognito-facts section 3): the 3072-bit group of
RFC 3526 with g = 2, SHA-256 over "padded hex" (two's-complement, so a leading 00 byte when the
top bit is set), and a 16-byte HKDF key with the info "Caldera Derived Key".
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from emulator.errors import InvalidParameter
from emulator.stores import SrpExchange, SrpRecord

if TYPE_CHECKING:
    from moto.cognitoidp.models import CognitoIdpUser

    from emulator.state import EmulatorState

N_HEX = (
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33"
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864"
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2"
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"
)
N = int(N_HEX, 16)
G = 2
INFO = b"Caldera Derived Key"
# Cognito's TIMESTAMP: "EEE MMM d HH:mm:ss 'UTC' yyyy" in English, the day without a leading zero.
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_TIMESTAMP = re.compile(
    rf"^({'|'.join(_DAYS)}) ({'|'.join(_MONTHS)}) (\d{{1,2}}) ([01]\d|2[0-3]):([0-5]\d):([0-5]\d)"
    r" UTC (\d{4})$"
)
TIMESTAMP_FORMAT_ERROR = "TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy in english."
TIMESTAMP_SKEW_SECONDS = 5 * 60
_FINGERPRINT_KEY = secrets.token_bytes(32)


def pad_hex(value: int | str) -> str:
    """Cognito's padHex: even-length hex, with a leading 00 when the top bit is set."""
    text = value if isinstance(value, str) else format(value, "x")
    if len(text) % 2:
        text = "0" + text
    elif text[0] in "89abcdef":
        text = "00" + text
    return text


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


K = int(_sha256_hex(bytes.fromhex(pad_hex(N) + pad_hex(G))), 16)


def pool_name(pool_id: str) -> str:
    """The part of the pool ID after the underscore, which SRP hashes in."""
    return pool_id.split("_", 1)[1]


@functools.lru_cache(maxsize=1024)
def private_key(*, pool_id: str, user_id: str, password: str, salt: str) -> int:
    """x = H(padHex(salt) || H(poolName || userId || ":" || password))."""
    inner = hashlib.sha256(f"{pool_name(pool_id)}{user_id}:{password}".encode()).hexdigest()
    return int(_sha256_hex(bytes.fromhex(pad_hex(salt) + inner)), 16)


@functools.lru_cache(maxsize=1024)
def verifier(*, pool_id: str, user_id: str, password: str, salt: str) -> int:
    """v = g^x mod N (cached: a reset re-derives the demo users' verifiers for free)."""
    x = private_key(pool_id=pool_id, user_id=user_id, password=password, salt=salt)
    return pow(G, x, N)


def user_salt(*, pool_id: str, user_id: str) -> str:
    """A salt that stays the same for a user (and for an unknown name, so it gives nothing away)."""
    return hashlib.sha256(f"srp-salt/{pool_id}/{user_id}".encode()).hexdigest()[:32]


def scramble(big_a: int, big_b: int) -> int:
    """u = H(padHex(A) || padHex(B))."""
    return int(_sha256_hex(bytes.fromhex(pad_hex(big_a) + pad_hex(big_b))), 16)


def hkdf(*, shared_secret: int, u: int) -> bytes:
    """The 16-byte key: HMAC(HMAC(padHex(u), padHex(S)), "Caldera Derived Key" || 0x01)[:16]."""
    prk = hmac.new(bytes.fromhex(pad_hex(u)), bytes.fromhex(pad_hex(shared_secret)), "sha256")
    return hmac.new(prk.digest(), INFO + b"\x01", hashlib.sha256).digest()[:16]


def server_b(*, verifier_value: int, small_b: int) -> int:
    """B = (k*v + g^b) mod N."""
    return (K * verifier_value + pow(G, small_b, N)) % N


def server_key(*, big_a: int, big_b: int, small_b: int, verifier_value: int) -> bytes:
    """The server's HKDF key: S = (A * v^u)^b mod N."""
    u = scramble(big_a, big_b)
    shared_secret = pow(big_a * pow(verifier_value, u, N) % N, small_b, N)
    return hkdf(shared_secret=shared_secret, u=u)


def claim_signature(
    *, key: bytes, pool_id: str, user_id: str, secret_block: str, timestamp: str
) -> str:
    """base64(HMAC(key, poolName || userId || secretBlock bytes || timestamp))."""
    message = (
        pool_name(pool_id).encode()
        + user_id.encode()
        + base64.b64decode(secret_block)
        + timestamp.encode()
    )
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def format_timestamp(moment: datetime) -> str:
    """A datetime in Cognito's TIMESTAMP format."""
    moment = moment.astimezone(UTC)
    return (
        f"{_DAYS[moment.weekday()]} {_MONTHS[moment.month - 1]} {moment.day}"
        f" {moment:%H:%M:%S} UTC {moment.year}"
    )


def timestamp_acceptable(timestamp: str) -> bool:
    """Raise on a malformed TIMESTAMP; False for a well-formed one Cognito still refuses."""
    match = _TIMESTAMP.match(timestamp)
    if match is None:
        raise InvalidParameter(TIMESTAMP_FORMAT_ERROR)
    weekday, month, day, hour, minute, second, year = match.groups()
    # A zero-padded day or a weekday that does not fit the date is well-formed, yet refused.
    if day.startswith("0"):
        return False
    try:
        moment = datetime(
            int(year),
            _MONTHS.index(month) + 1,
            int(day),
            int(hour),
            int(minute),
            int(second),
            tzinfo=UTC,
        )
    except ValueError:
        return False
    if _DAYS[moment.weekday()] != weekday:
        return False
    return abs(moment.timestamp() - time.time()) <= TIMESTAMP_SKEW_SECONDS


def _fingerprint(password: str) -> bytes:
    return hmac.new(_FINGERPRINT_KEY, password.encode(), hashlib.sha256).digest()


def remember(state: EmulatorState, user: CognitoIdpUser) -> SrpRecord:
    """Derive and store the user's salt and verifier from their current password."""
    password = user.password or ""
    salt = user_salt(pool_id=user.user_pool_id, user_id=user.username)
    record = SrpRecord(
        salt=salt,
        verifier=verifier(
            pool_id=user.user_pool_id, user_id=user.username, password=password, salt=salt
        ),
        fingerprint=_fingerprint(password),
    )
    with state.lock:
        state.flows.srp_records[user.username] = record
    return record


def record_of(state: EmulatorState, user: CognitoIdpUser) -> SrpRecord:
    """The user's stored verifier, derived again if the password changed outside our operations."""
    record = state.flows.srp_records.get(user.username)
    if record is None or not hmac.compare_digest(
        record.fingerprint, _fingerprint(user.password or "")
    ):
        return remember(state, user)
    return record


def start(*, pool_id: str, user_id: str, salt: str, verifier_value: int, big_a: int) -> SrpExchange:
    """The server's B for a client's A, with an opaque SECRET_BLOCK naming the exchange."""
    if big_a % N == 0:
        raise InvalidParameter("Invalid SRP_A value.")
    while True:
        small_b = secrets.randbits(256)
        big_b = server_b(verifier_value=verifier_value, small_b=small_b)
        if big_b % N and scramble(big_a, big_b):
            break
    secret_block = base64.b64encode(secrets.token_bytes(64)).decode()
    return SrpExchange(
        user_id=user_id,
        salt=salt,
        verifier=verifier_value,
        small_b=small_b,
        big_b=big_b,
        big_a=big_a,
        secret_block=secret_block,
    )


def simulated(*, pool_id: str, username: str, big_a: int) -> SrpExchange:
    """An exchange for a user who does not exist: a stable salt, a UUID id, no password fits."""
    user_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"srp-unknown/{pool_id}/{username}"))
    salt = user_salt(pool_id=pool_id, user_id=username)
    return start(
        pool_id=pool_id,
        user_id=user_id,
        salt=salt,
        verifier_value=pow(G, secrets.randbits(256), N),
        big_a=big_a,
    )


def claim_valid(
    exchange: SrpExchange, *, pool_id: str, secret_block: str, timestamp: str, signature: str
) -> bool:
    """Whether the client's PASSWORD_CLAIM_SIGNATURE proves it knows the password."""
    if not timestamp_acceptable(timestamp):
        return False
    if not hmac.compare_digest(secret_block.encode(), exchange.secret_block.encode()):
        return False
    key = server_key(
        big_a=exchange.big_a,
        big_b=exchange.big_b,
        small_b=exchange.small_b,
        verifier_value=exchange.verifier,
    )
    expected = claim_signature(
        key=key,
        pool_id=pool_id,
        user_id=exchange.user_id,
        secret_block=exchange.secret_block,
        timestamp=timestamp,
    )
    return hmac.compare_digest(expected.encode(), signature.encode())
