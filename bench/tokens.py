"""Token validation cost: the project's validator against a bare PyJWT decode and a raw RSA verify.

Run: .venv/bin/python bench/tokens.py [--seconds 2.0]

The validator runs with a warm JWKS cache, its keys served over HTTP by a local server that
counts requests: the timed loops must make none. Target: within 1.5x of the bare PyJWT decode.
Prints only; never asserts.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from jwt.algorithms import RSAAlgorithm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from accounts.tokens import CognitoTokenValidator, JwksCache

TARGET_RATIO = 1.5
KID = "bench-key-1"
CLIENT_ID = "4demo0app0client0id000001a"
POOL_ID = "us-east-1_DEMOpool1"


class JwksServer(ThreadingHTTPServer):
    """Serves one JWKS document on 127.0.0.1 and counts how often it is fetched."""

    def __init__(self, jwks: dict) -> None:
        super().__init__(("127.0.0.1", 0), JwksHandler)
        self.body = json.dumps(jwks).encode()
        self.fetches = 0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class JwksHandler(BaseHTTPRequestHandler):
    server: JwksServer

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.fetches += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def id_token(private_key: rsa.RSAPrivateKey, issuer: str) -> str:
    """An ID token shaped like Cognito's (about 1 KB), signed with the bench key."""
    now = int(time.time())
    claims = {
        "sub": "7b5d5f2e-1c2a-4b59-9d1f-0a1b2c3d4e5f",
        "email_verified": True,
        "iss": issuer,
        "cognito:username": "alice",
        "origin_jti": "1b0b6c1e-0f7e-4a55-8a2b-3c4d5e6f7a8b",
        "aud": CLIENT_ID,
        "event_id": "5c6d7e8f-9a0b-4c1d-8e2f-3a4b5c6d7e8f",
        "token_use": "id",
        "auth_time": now,
        "exp": now + 3600,
        "iat": now,
        "jti": "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
        "email": "alice@example.com",
    }
    return jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": KID})


def calls_per_second(function: Callable[[], object], seconds: float) -> float:
    """Calls per second over about `seconds`."""
    calls = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(100):
            function()
        calls += 100
        now = time.perf_counter()
        if now >= deadline:
            return calls / (now - start)


def best_rates(functions: dict[str, Callable[[], object]], seconds: float) -> dict[str, float]:
    """The best rate of each function over five interleaved rounds, so that a busy machine slows
    every contender alike rather than whichever happened to run during the busy moment."""
    best = dict.fromkeys(functions, 0.0)
    for _ in range(5):
        for name, function in functions.items():
            best[name] = max(best[name], calls_per_second(function, seconds / 5))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="timed seconds per contender")
    seconds = parser.parse_args().seconds

    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_key = private_key.public_key()
    jwk = {**json.loads(RSAAlgorithm.to_jwk(public_key)), "kid": KID, "alg": "RS256", "use": "sig"}
    server = JwksServer({"keys": [jwk]})
    threading.Thread(target=server.serve_forever, daemon=True).start()
    issuer = f"{server.url}/{POOL_ID}"
    token = id_token(private_key, issuer)

    cache = JwksCache(f"{issuer}/.well-known/jwks.json", timeout=(2.0, 3.0))
    validator = CognitoTokenValidator(issuer=issuer, client_id=CLIENT_ID, jwks=cache)
    validator.validate_id_token(token)  # warms the JWKS cache: the one fetch
    warm_fetches = server.fetches

    signing_input, _, signature_b64 = token.rpartition(".")
    signature = base64.urlsafe_b64decode(signature_b64 + "=" * (-len(signature_b64) % 4))
    pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()

    def project_validator() -> object:
        return validator.validate_id_token(token)

    def bare_pyjwt() -> object:
        return jwt.decode(
            token,
            public_key,
            algorithms=["RS256"],
            audience=CLIENT_ID,
            issuer=issuer,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )

    def raw_rsa() -> None:
        public_key.verify(signature, signing_input.encode(), pkcs1, sha256)

    rates = best_rates(
        {
            "project validator (warm JWKS)": project_validator,
            "bare jwt.decode, key in hand": bare_pyjwt,
            "raw RSA verify (cryptography)": raw_rsa,
        },
        seconds,
    )
    timed_fetches = server.fetches - warm_fetches
    server.shutdown()

    validator_rate, pyjwt_rate, raw_rate = rates.values()
    print(f"Token validation, RS256 2048-bit, {len(token)}-byte ID token, best of 5 rounds")
    print()
    print(f"{'what':<32}{'per second':>12}{'µs each':>10}")
    for name, per_second in rates.items():
        print(f"{name:<32}{per_second:>12,.0f}{1e6 / per_second:>10.1f}")
    print()
    ratio = pyjwt_rate / validator_rate
    verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
    print(f"validator / pyjwt cost ratio: {ratio:.2f}x  ({verdict} the {TARGET_RATIO}x target)")
    print(f"pyjwt / raw RSA cost ratio:   {raw_rate / pyjwt_rate:.2f}x")
    print(f"JWKS fetches: {warm_fetches} to warm the cache, {timed_fetches} during the timed loops")


if __name__ == "__main__":
    main()
