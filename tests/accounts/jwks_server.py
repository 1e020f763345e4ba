"""A JWKS served over real HTTP from a thread, with keys made in the test: the issuer's stand-in."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

JWKS_PATH = "/pool/.well-known/jwks.json"
MOVED_PATH = "/moved/jwks.json"


@dataclass
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey

    def jwk(self, **overrides: Any) -> dict[str, Any]:
        """The public JWK as Cognito publishes it."""
        public = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**public, "kid": self.kid, "alg": "RS256", "use": "sig", **overrides}

    def sign(self, claims: dict[str, Any], *, headers: dict[str, Any] | None = None) -> str:
        # Through the JWS layer, so tests can sign claims PyJWT's encoder would refuse.
        return jwt.api_jws.encode(
            json.dumps(claims).encode(),
            self.private,
            algorithm="RS256",
            headers={"kid": self.kid, **(headers or {})},
        )


def new_key(kid: str) -> SigningKey:
    return SigningKey(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048))


@dataclass
class JwksServer:
    """What the server answers (editable by tests) and what it was asked."""

    keys: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    redirect: bool = False
    delay: float = 0.0
    requests: list[str] = field(default_factory=list)
    url: str = ""

    @property
    def hits(self) -> int:
        return self.requests.count(JWKS_PATH)


def serve_jwks(state: JwksServer) -> tuple[ThreadingHTTPServer, threading.Thread]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            if state.delay:
                time.sleep(state.delay)
            if self.path == JWKS_PATH and state.redirect:
                self.send_response(302)
                self.send_header("Location", MOVED_PATH)
                self.end_headers()
                return
            body = json.dumps({"keys": state.keys}).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}{JWKS_PATH}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    return server, thread
