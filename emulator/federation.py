"""Federation through the user pool, as Cognito brokers a third-party IdP (cognito-facts 7).

`/oauth2/authorize` with `identity_provider` or `idp_identifier` sends the browser to the IdP;
the IdP answers at `/oauth2/idpresponse` (OIDC and social: the code is exchanged and the ID token
checked for signature, issuer, audience, expiry and nonce) or `/saml2/idpresponse` (SAML: signature,
audience, destination, time window, InResponseTo). The attributes are mapped, the federated user
`<Provider>_<subject>` is created on first sign-in and updated later, and the app gets a code as
after managed login. IdP failures go back to the app as `error=invalid_request&error_description=`.

The IdPs themselves are configured in moto's state (CreateIdentityProvider, the client's
SupportedIdentityProviders), so the app discovers them with the ordinary API calls.
"""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import jwt
import requests
from moto.cognitoidp.models import CognitoIdpUser
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from emulator import saml
from emulator.authorize import (
    AuthorizeRequest,
    parse_authorize,
    sign_in_redirect,
)
from emulator.errors import ErrorPage, InvalidRequest
from emulator.idps import PENDING_SECONDS, FederatedRequest, Federation, SamlIdp
from emulator.responses import redirect, with_query
from emulator.tokens import new_opaque_token

if TYPE_CHECKING:
    from moto.cognitoidp.models import CognitoIdpIdentityProvider

    from emulator.state import EmulatorState

# Cognito's outbound requests to IdPs name themselves (cognito-facts 7).
_IDP_HEADERS = {"User-Agent": "Amazon/Cognito", "Accept": "application/json"}
_IDP_TIMEOUT = (3.0, 5.0)
_MAX_ATTRIBUTE_LENGTH = 2048
_ENTITY_ID = re.compile(r'entityID="([^"]+)"')
_SAML_REASONS = (
    ("Signature", "invalid signature"),
    ("LifetimeExceed", "assertion expired"),
    ("ToEarly", "assertion not yet valid"),
    ("AudienceRestriction", "invalid audience"),
)
_SOCIAL_TYPES = {"Google", "Facebook", "LoginWithAmazon", "SignInWithApple"}


class IdpFailure(Exception):
    """The IdP's answer cannot be trusted or used; the message becomes `error_description`."""


# --- provisioning ------------------------------------------------------------------------------
def provision(state: EmulatorState, federation: Federation) -> None:
    """Configure each running local IdP in the pool (CreateIdentityProvider) and on the client."""
    if not federation.idps:
        return
    backend, pool = state.backend, state.pool
    for name, idp in federation.idps.items():
        spec = idp.spec
        if isinstance(idp, SamlIdp):
            idp.trust(
                entity_id=saml.sp_entity_id(pool.id), acs_url=f"{state.url}/saml2/idpresponse"
            )
            details: dict[str, str] = {"MetadataFile": idp.metadata_xml(), "IDPSignout": "false"}
        else:
            idp.relying_party_urls[:] = [f"{state.url}/oauth2/idpresponse"]
            details = {
                "client_id": spec.client_id,
                "client_secret": spec.client_secret,
                "authorize_scopes": "openid email profile",
                "authorize_url": f"{idp.url}/authorize",
                "token_url": f"{idp.url}/token",
                "jwks_uri": f"{idp.url}/jwks.json",
                "oidc_issuer": idp.url,
            }
            if spec.type == "OIDC":
                details["attributes_request_method"] = "GET"
        config: dict[str, Any] = {
            "ProviderType": spec.type,
            "ProviderDetails": details,
            "AttributeMapping": dict(spec.attribute_mapping),
        }
        if spec.identifiers:
            config["IdpIdentifiers"] = list(spec.identifiers)
        backend.create_identity_provider(pool.id, name, config)
    for client in pool.clients.values():
        supported = client.extended_config.setdefault("SupportedIdentityProviders", ["COGNITO"])
        supported.extend(name for name in federation.idps if name not in supported)


# --- authorize -----------------------------------------------------------------------------------
def requested(args: MultiDict[str, str]) -> bool:
    """Whether an authorize request names a third-party IdP (COGNITO is managed login itself)."""
    provider = args.get("identity_provider")
    return bool(args.get("idp_identifier")) or bool(provider and provider != "COGNITO")


def start(
    state: EmulatorState, authorize_request: AuthorizeRequest, args: MultiDict[str, str]
) -> Response:
    """Send the browser to the IdP, remembering the app's request under a fresh relay state."""
    provider = _provider_of(state, authorize_request, args)
    config = provider.extended_config
    details = config.get("ProviderDetails") or {}
    relay_state = new_opaque_token()
    # Cognito sends its own nonce to the IdP and checks it, whatever the app sent (cognito-facts 7).
    nonce = new_opaque_token()
    saml_request_id = None
    if config.get("ProviderType") == "SAML":
        saml_request_id, location = saml.authn_request(
            _sp_client(state, provider), relay_state=relay_state
        )
    else:
        location = with_query(
            details["authorize_url"],
            {
                "client_id": details["client_id"],
                "redirect_uri": f"{state.url}/oauth2/idpresponse",
                "response_type": "code",
                "scope": details.get("authorize_scopes", "openid"),
                "state": relay_state,
                "nonce": nonce,
            },
        )
    with state.lock:
        now = time.time()
        requests_in_flight = state.federation.requests
        for stale in [k for k, v in requests_in_flight.items() if v.expires_at < now]:
            requests_in_flight.pop(stale, None)
        requests_in_flight[relay_state] = FederatedRequest(
            provider=provider.name,
            query=authorize_request.query,
            nonce=nonce,
            saml_request_id=saml_request_id,
            expires_at=time.time() + PENDING_SECONDS * 2,
        )
    return redirect(location)


def login_buttons(state: EmulatorState, authorize_request: AuthorizeRequest) -> list[str]:
    """The third-party IdPs of this client, for the hosted sign-in page."""
    client = state.client(authorize_request.client_id)
    supported = (client.extended_config.get("SupportedIdentityProviders") or []) if client else []
    return [name for name in supported if name in state.pool.identity_providers]


# --- the IdP's answer ----------------------------------------------------------------------------
def oauth2_idpresponse(state: EmulatorState, request: Request) -> Response:
    """An OIDC or social IdP's redirect: exchange its code, verify its ID token, sign in."""
    pending, authorize_request, provider = _resume(state, request.args.get("state", ""))
    if request.args.get("error"):
        # The IdP refused the user or the user cancelled: the app hears it, never a page here.
        raise authorize_request.fail(InvalidRequest(request.args["error"]))
    code = request.args.get("code", "")
    if not code:
        raise authorize_request.fail(InvalidRequest(f"{provider.name} Error - no code"))
    try:
        claims = _verified_id_token(provider, code=code, nonce=pending.nonce, state=state)
    except IdpFailure as failure:
        raise authorize_request.fail(InvalidRequest(f"{provider.name} Error - {failure}")) from None
    return _sign_in(state, authorize_request, provider, subject=str(claims["sub"]), claims=claims)


def saml2_idpresponse(state: EmulatorState, request: Request) -> Response:
    """A SAML IdP's POST: verify the response (signature, audience, destination, time), sign in."""
    pending, authorize_request, provider = _resume(state, request.form.get("RelayState", ""))
    try:
        response = _sp_client(state, provider).parse_authn_request_response(
            request.form.get("SAMLResponse", ""),
            saml.BINDING_HTTP_POST,
            outstanding={pending.saml_request_id: request.form.get("RelayState", "")},
        )
    except Exception as error:
        raise authorize_request.fail(
            InvalidRequest(f"SAML Error - {_saml_reason(error)}")
        ) from None
    if response is None or response.name_id is None:
        raise authorize_request.fail(InvalidRequest("SAML Error - invalid SAML response"))
    claims = saml.attributes_of(response.get_identity())
    return _sign_in(
        state, authorize_request, provider, subject=response.name_id.text, claims=claims
    )


def _saml_reason(error: Exception) -> str:
    """A short reason for pysaml2's refusal (never its message: it can quote the assertion)."""
    if type(error).__name__.startswith("Status"):  # the IdP answered with an error status
        return "access_denied"
    text = f"{type(error).__name__} {error}"
    return next((reason for key, reason in _SAML_REASONS if key in text), "invalid SAML response")


def _resume(
    state: EmulatorState, relay_state: str
) -> tuple[FederatedRequest, AuthorizeRequest, CognitoIdpIdentityProvider]:
    """The app's request behind this relay state (used once), checked again as at authorize."""
    with state.lock:
        pending = state.federation.requests.pop(relay_state, None)
    if pending is None or pending.expires_at < time.time():
        raise ErrorPage("invalid_state")
    args = MultiDict(parse_qsl(pending.query, keep_blank_values=True))
    authorize_request = parse_authorize(state, args, query=pending.query)
    provider = state.pool.identity_providers.get(pending.provider)
    if provider is None:
        raise authorize_request.fail(InvalidRequest("identity provider no longer exists"))
    return pending, authorize_request, provider


def _provider_of(
    state: EmulatorState, authorize_request: AuthorizeRequest, args: MultiDict[str, str]
) -> CognitoIdpIdentityProvider:
    """The provider named, or the SAML/OIDC provider whose IdpIdentifiers hold the identifier."""
    client = state.client(authorize_request.client_id)
    supported = (client.extended_config.get("SupportedIdentityProviders") or []) if client else []
    providers = {
        name: provider
        for name, provider in state.pool.identity_providers.items()
        if name in supported
    }
    name = args.get("identity_provider")
    if name:
        provider = providers.get(name)
    else:
        identifier = (args.get("idp_identifier") or "").lower()
        provider = next(
            (
                p
                for p in providers.values()
                if identifier in [i.lower() for i in p.extended_config.get("IdpIdentifiers", [])]
            ),
            None,
        )
    if provider is None:
        raise authorize_request.fail(
            InvalidRequest("identity provider is unknown or not enabled for this client")
        )
    return provider


def _sp_client(state: EmulatorState, provider: CognitoIdpIdentityProvider) -> Any:
    details = provider.extended_config.get("ProviderDetails") or {}
    return saml.sp_client(
        entity_id=saml.sp_entity_id(state.pool.id),
        acs_url=f"{state.url}/saml2/idpresponse",
        idp_metadata_xml=details.get("MetadataFile", ""),
    )


def _verified_id_token(
    provider: CognitoIdpIdentityProvider, *, code: str, nonce: str, state: EmulatorState
) -> dict[str, Any]:
    """Exchange the code at the IdP and verify its ID token: RS256, kid, iss, aud, exp, nonce."""
    details = provider.extended_config.get("ProviderDetails") or {}
    http = requests.Session()
    http.trust_env = False  # the IdPs are local; a proxy from the environment must not see them
    try:
        answer = http.post(
            details["token_url"],
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": f"{state.url}/oauth2/idpresponse",
                "client_id": details["client_id"],
                "client_secret": details.get("client_secret", ""),
            },
            headers=_IDP_HEADERS,
            timeout=_IDP_TIMEOUT,
            allow_redirects=False,
        )
        if answer.status_code != 200:
            raise IdpFailure(f"{answer.status_code} error getting token")
        id_token = answer.json().get("id_token")
        jwks = http.get(details["jwks_uri"], headers=_IDP_HEADERS, timeout=_IDP_TIMEOUT).json()
    except requests.Timeout:
        raise IdpFailure("Timeout occurred in calling IdP token endpoint") from None
    except (requests.RequestException, ValueError):
        raise IdpFailure("error getting token") from None
    if not isinstance(id_token, str):
        raise IdpFailure("no id_token in the token response")
    try:
        kid = jwt.get_unverified_header(id_token).get("kid")
        key = next(k for k in jwks.get("keys", []) if k.get("kid") == kid)
        claims = jwt.decode(
            id_token,
            jwt.PyJWK(key).key,
            algorithms=["RS256"],
            audience=details["client_id"],
            issuer=details["oidc_issuer"],
            options={"require": ["iss", "sub", "aud", "exp", "iat"]},
            leeway=30,
        )
    except (StopIteration, jwt.PyJWTError, AttributeError):
        raise IdpFailure("invalid id_token") from None
    if claims.get("nonce") != nonce:
        raise IdpFailure("invalid id_token nonce")
    return claims


# --- the federated user --------------------------------------------------------------------------
def _sign_in(
    state: EmulatorState,
    authorize_request: AuthorizeRequest,
    provider: CognitoIdpIdentityProvider,
    *,
    subject: str,
    claims: dict[str, Any],
) -> Response:
    user = federated_user(state, provider, subject=subject, attributes=mapped(provider, claims))
    return sign_in_redirect(state, authorize_request, username=user.username)


def mapped(provider: CognitoIdpIdentityProvider, claims: dict[str, Any]) -> dict[str, str]:
    """The pool attributes from the IdP's claims through the provider's AttributeMapping.

    A mapped email stays unverified unless `email_verified` is mapped too (cognito-facts 7).
    """
    mapping: dict[str, str] = provider.extended_config.get("AttributeMapping") or {}
    attributes: dict[str, str] = {}
    for pool_attribute, idp_attribute in mapping.items():
        value = claims.get(idp_attribute)
        if pool_attribute == "username" or value is None or value == "":
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        attributes[pool_attribute] = str(value)[:_MAX_ATTRIBUTE_LENGTH]
    if "email" in attributes and "email_verified" not in mapping:
        attributes["email_verified"] = "false"
    return attributes


def federated_user(
    state: EmulatorState,
    provider: CognitoIdpIdentityProvider,
    *,
    subject: str,
    attributes: dict[str, str],
) -> CognitoIdpUser:
    """`<Provider>_<subject>`: made with an `identities` entry; attributes rewritten each time."""
    pool = state.pool
    username = f"{provider.name}_{subject}"
    with state.lock:
        user = pool.users.get(username)
        if user is None:
            user = CognitoIdpUser(pool.id, username, None, "EXTERNAL_PROVIDER", [])
            provider_type = provider.extended_config.get("ProviderType", "OIDC")
            details = provider.extended_config.get("ProviderDetails") or {}
            identity = {
                "userId": subject,
                "providerName": provider.name,
                "providerType": provider_type,
                "issuer": None if provider_type in _SOCIAL_TYPES else _issuer(provider, details),
                "primary": "true",
                "dateCreated": str(int(time.time() * 1000)),
            }
            user.update_attributes([{"Name": "identities", "Value": json.dumps([identity])}])
            pool.users[username] = user
            _add_to_provider_group(state, provider, username)
        # Mapped attributes are rewritten at every sign-in (absent claims are not cleared).
        user.update_attributes([{"Name": k, "Value": v} for k, v in attributes.items()])
    return user


def _issuer(provider: CognitoIdpIdentityProvider, details: dict[str, str]) -> str:
    if provider.extended_config.get("ProviderType") == "SAML":
        match = _ENTITY_ID.search(details.get("MetadataFile", ""))
        return match.group(1) if match else provider.name
    return details.get("oidc_issuer", provider.name)


def _add_to_provider_group(
    state: EmulatorState, provider: CognitoIdpIdentityProvider, username: str
) -> None:
    """Cognito puts every auto-created federated user in the group `<pool id>_<Provider>`."""
    pool = state.pool
    group_name = f"{pool.id}_{provider.name}"
    if group_name not in pool.groups:
        state.backend.create_group(pool.id, group_name, None, None, None)  # type: ignore[arg-type]
    state.backend.admin_add_user_to_group(pool.id, group_name, username)
