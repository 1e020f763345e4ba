"""Cognito JSON-API operations the emulator answers itself instead of moto, by `X-Amz-Target`."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from emulator import branding, devices, risk, userauth, webauthn
from emulator.accountops import SIGN_IN_OPERATIONS
from emulator.errors import (
    CognitoError,
    InvalidParameter,
    Unauthorized,
    UnsupportedTokenTypeException,
)
from emulator.oauth2 import revoke_refresh_token
from emulator.responses import AMZ_JSON, json_params, json_response

if TYPE_CHECKING:
    from emulator.state import EmulatorState

IDP_PREFIX = "AWSCognitoIdentityProviderService."


def revoke_token(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """RevokeToken: moto lacks it; it ends the refresh token as /oauth2/revoke does."""
    token = params.get("Token")
    client_id = params.get("ClientId")
    if not isinstance(token, str) or not token or not isinstance(client_id, str) or not client_id:
        raise InvalidParameter("Token and ClientId are required.")
    client = state.client(client_id)
    secret = params.get("ClientSecret") or ""
    if client is None or (
        client.generate_secret
        and not hmac.compare_digest(str(secret).encode(), client.secret.encode())
    ):
        raise Unauthorized("Client authentication failed.")
    if token.count(".") == 2:
        raise UnsupportedTokenTypeException("Only refresh tokens can be revoked.")
    revoke_refresh_token(state, refresh_token=token, client_id=client_id)
    return {}


OPERATIONS: dict[str, Callable[[EmulatorState, dict[str, Any]], dict[str, Any]]] = {
    f"{IDP_PREFIX}RevokeToken": revoke_token,
    **{f"{IDP_PREFIX}{name}": handler for name, handler in SIGN_IN_OPERATIONS.items()},
    **{f"{IDP_PREFIX}{name}": handler for name, handler in branding.OPERATIONS.items()},
    **{f"{IDP_PREFIX}{name}": handler for name, handler in risk.OPERATIONS.items()},
    **{f"{IDP_PREFIX}{name}": handler for name, handler in webauthn.OPERATIONS.items()},
    **{f"{IDP_PREFIX}{name}": handler for name, handler in devices.OPERATIONS.items()},
    **{f"{IDP_PREFIX}{name}": handler for name, handler in userauth.OPERATIONS.items()},
}


class NotImplementedByEmulator(CognitoError):
    code = "UnsupportedOperationException"


def _not_implemented(operation: str) -> Callable[[EmulatorState, dict[str, Any]], dict[str, Any]]:
    def refuse(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedByEmulator(f"The emulator does not implement {operation}.")

    return refuse


def _unimplemented() -> dict[str, Callable[[EmulatorState, dict[str, Any]], dict[str, Any]]]:
    """cognito-idp operations in botocore's model that neither moto nor the emulator answers.

    They answer a clear JSON error naming the operation instead of moto's traceback (a 500).
    """
    from botocore.loaders import Loader
    from moto.cognitoidp.responses import CognitoIdpResponse
    from moto.core.utils import camelcase_to_underscores

    model = Loader().load_service_model("cognito-idp", "service-2")
    return {
        f"{IDP_PREFIX}{name}": _not_implemented(name)
        for name in model["operations"]
        if f"{IDP_PREFIX}{name}" not in OPERATIONS
        and not hasattr(CognitoIdpResponse, camelcase_to_underscores(name))
    }


OPERATIONS.update(_unimplemented())


def dispatch(state: EmulatorState, request: Request, *, target: str) -> Response:
    """Run the operation named by `X-Amz-Target` on the request's JSON body."""
    return json_response(OPERATIONS[target](state, json_params(request)), content_type=AMZ_JSON)
