"""OIDC discovery and JWKS under the local issuer, `{url}/{pool id}/.well-known/...`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from emulator.errors import ResourceNotFound
from emulator.responses import json_response

if TYPE_CHECKING:
    from emulator.state import EmulatorState


def openid_configuration(state: EmulatorState, request: Request, *, pool_id: str) -> Response:
    """The discovery document, shaped like Cognito's for a pool with a domain."""
    _require_pool(state, pool_id)
    issuer = state.tokens.issuer(pool_id)
    # The issuer is the pool's URL, the endpoints are the domain's (cognito-facts 1.8);
    # locally both live on the emulator's origin.
    domain = state.url
    return json_response(
        {
            "authorization_endpoint": f"{domain}/oauth2/authorize",
            "end_session_endpoint": f"{domain}/logout",
            "id_token_signing_alg_values_supported": ["RS256"],
            "issuer": issuer,
            "jwks_uri": f"{issuer}/.well-known/jwks.json",
            "response_types_supported": ["code", "token"],
            "revocation_endpoint": f"{domain}/oauth2/revoke",
            "scopes_supported": ["openid", "email", "phone", "profile"],
            "subject_types_supported": ["public"],
            "token_endpoint": f"{domain}/oauth2/token",
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "userinfo_endpoint": f"{domain}/oauth2/userInfo",
        }
    )


def jwks(state: EmulatorState, request: Request, *, pool_id: str) -> Response:
    """The two public keys: one signs ID tokens, the other access tokens."""
    _require_pool(state, pool_id)
    return json_response(state.keys.jwks())


def _require_pool(state: EmulatorState, pool_id: str) -> None:
    if pool_id not in state.backend.user_pools:
        raise ResourceNotFound(f"User pool {pool_id} does not exist.")
