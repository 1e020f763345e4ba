"""Identity pools for real: the cognito-identity operations moto stubs, answered here.

moto's GetId makes a new identity per call and never looks at `Logins`, and its credentials are
fixed fakes. Here GetId validates every login token (signature against the user pool's JWKS,
issuer, audience among the pool's providers, expiry) and maps the same user to the same identity
ID; GetCredentialsForIdentity chooses the role (the pool's default, token-based or rules-based
mappings) and mints credentials through STS that the emulator's S3 checks; GetOpenIdToken and
GetOpenIdTokenForDeveloperIdentity return signed OpenID tokens for the basic flow.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import jwt
from werkzeug.wrappers import Request, Response

from emulator import openid, seed, sigv4, sts
from emulator.errors import CognitoError, InvalidParameter, NotAuthorized, ResourceNotFound
from emulator.responses import AMZ_JSON, json_params, json_response

if TYPE_CHECKING:
    from moto.cognitoidentity.models import CognitoIdentityPool

    from emulator.state import EmulatorState

TARGET_PREFIX = "AWSCognitoIdentityService."
# The Logins key under which an identity pool's own OpenID token (developer identities) is sent.
OPENID_PROVIDER = "cognito-identity.amazonaws.com"
DEVELOPER_TOKEN_SECONDS = 15 * 60
LOGINS_DONT_MATCH = (
    "Logins don't match. Please include at least one valid login"
    " for this identity or identity pool."
)


class InvalidIdentityPoolConfiguration(CognitoError):
    code = "InvalidIdentityPoolConfigurationException"


class MissingAuthenticationToken(CognitoError):
    code = "MissingAuthenticationTokenException"
    status = 403


class ResourceConflict(CognitoError):
    code = "ResourceConflictException"


@dataclass
class Identity:
    """One identity of a pool and the logins linked to it (provider -> subject)."""

    identity_id: str
    pool_id: str
    logins: dict[str, str] = field(default_factory=dict)

    @property
    def authenticated(self) -> bool:
        return bool(self.logins)


@dataclass(frozen=True)
class Login:
    """A validated login: the pool's provider name, the user it names and the token's claims."""

    provider: str
    subject: str
    claims: dict[str, Any]
    client_id: str | None = None


class IdentityStore:
    """Identities, pool roles and role mappings, and which pools allow the basic flow."""

    def __init__(self) -> None:
        self.identities: dict[str, Identity] = {}
        self.roles: dict[str, dict[str, Any]] = {}
        self.classic_flow: dict[str, bool] = {}
        self.lock = threading.RLock()

    def clear(self) -> None:
        with self.lock:
            self.identities.clear()
            self.roles.clear()
            self.classic_flow.clear()


def identity_id_for(pool_id: str, provider: str, subject: str) -> str:
    """The identity ID of a login: the same user of the same provider always gets the same one."""
    region = pool_id.split(":", 1)[0]
    return f"{region}:{uuid.uuid5(uuid.NAMESPACE_URL, f'{pool_id}|{provider}|{subject}')}"


def user_pool_provider(pool_id: str, region: str = seed.REGION) -> str:
    """The AWS-form provider name of a user pool, as identity pools configure it."""
    return f"cognito-idp.{region}.amazonaws.com/{pool_id}"


# --- operations ------------------------------------------------------------------------------


def get_id(state: EmulatorState, request: Request, params: dict[str, Any]) -> dict[str, Any]:
    """GetId: an identity for the given logins, or a new unauthenticated one when allowed."""
    pool = _pool(params.get("IdentityPoolId"))
    logins = _validated_logins(state, pool, params.get("Logins"))
    with state.identities.lock:
        if not logins:
            if not pool.allow_unauthenticated_identities:
                raise NotAuthorized(
                    "Unauthenticated access is not supported for this identity pool."
                )
            identity = Identity(f"{seed.REGION}:{uuid.uuid4()}", pool.identity_pool_id)
        else:
            identity = _identity_for_logins(state, pool, logins)
        state.identities.identities[identity.identity_id] = identity
    return {"IdentityId": identity.identity_id}


def get_credentials_for_identity(
    state: EmulatorState, request: Request, params: dict[str, Any]
) -> dict[str, Any]:
    """GetCredentialsForIdentity: the enhanced flow, role chosen here, credentials minted by STS."""
    identity = _identity(state, params.get("IdentityId"))
    pool = _pool(identity.pool_id)
    logins = _logins_for(state, pool, identity, params.get("Logins"))
    role_arn = _choose_role(state, pool, identity, logins, params.get("CustomRoleArn"))
    claims = {"aud": pool.identity_pool_id, "sub": identity.identity_id, "amr": _amr(logins)}
    if not sts.trust_allows(role_arn, claims):
        raise InvalidIdentityPoolConfiguration(
            "Invalid identity pool configuration. Check assigned IAM roles for this pool."
        )
    session = sts.mint(
        state,
        role_arn=role_arn,
        session_name="CognitoIdentityCredentials",
        context=sts.token_context(claims),
    )
    return {
        "IdentityId": identity.identity_id,
        "Credentials": {
            "AccessKeyId": session.access_key_id,
            "SecretKey": session.secret_access_key,
            "SessionToken": session.session_token,
            "Expiration": int(session.expires_at),
        },
    }


def get_open_id_token(
    state: EmulatorState, request: Request, params: dict[str, Any]
) -> dict[str, Any]:
    """GetOpenIdToken: the basic flow's first step, only where the pool allows the basic flow."""
    identity = _identity(state, params.get("IdentityId"))
    pool = _pool(identity.pool_id)
    if not state.identities.classic_flow.get(pool.identity_pool_id, False):
        raise InvalidParameter("Basic (classic) flow is not enabled, please use enhanced flow.")
    logins = _logins_for(state, pool, identity, params.get("Logins"))
    token = openid.openid_token(
        pool_id=pool.identity_pool_id, identity_id=identity.identity_id, amr=_amr(logins)
    )
    return {"IdentityId": identity.identity_id, "Token": token}


def get_open_id_token_for_developer_identity(
    state: EmulatorState, request: Request, params: dict[str, Any]
) -> dict[str, Any]:
    """For users the app vouches for: signed with the app's own credentials (SigV4)."""
    _require_signed(state, request)
    pool = _pool(params.get("IdentityPoolId"))
    logins = params.get("Logins") or {}
    developer = pool.developer_provider_name
    if not developer or set(logins) != {developer} or not str(logins[developer]):
        raise NotAuthorized("Logins must name the pool's developer provider only.")
    subject = str(logins[developer])
    identity_id = identity_id_for(pool.identity_pool_id, developer, subject)
    requested = params.get("IdentityId")
    if requested and requested != identity_id:
        raise ResourceConflict("The developer user is linked to another identity.")
    with state.identities.lock:
        state.identities.identities.setdefault(
            identity_id, Identity(identity_id, pool.identity_pool_id, {developer: subject})
        )
    lifetime = int(params.get("TokenDuration") or DEVELOPER_TOKEN_SECONDS)
    token = openid.openid_token(
        pool_id=pool.identity_pool_id,
        identity_id=identity_id,
        amr=["authenticated", developer],
        lifetime=lifetime,
    )
    return {"IdentityId": identity_id, "Token": token}


def set_identity_pool_roles(
    state: EmulatorState, request: Request, params: dict[str, Any]
) -> dict[str, Any]:
    """SetIdentityPoolRoles: the default roles and the role mappings per provider."""
    _require_signed(state, request)
    pool = _pool(params.get("IdentityPoolId"))
    with state.identities.lock:
        state.identities.roles[pool.identity_pool_id] = {
            "Roles": dict(params.get("Roles") or {}),
            "RoleMappings": dict(params.get("RoleMappings") or {}),
        }
    return {}


def get_identity_pool_roles(
    state: EmulatorState, request: Request, params: dict[str, Any]
) -> dict[str, Any]:
    """GetIdentityPoolRoles."""
    _require_signed(state, request)
    pool = _pool(params.get("IdentityPoolId"))
    config = state.identities.roles.get(pool.identity_pool_id, {})
    return {"IdentityPoolId": pool.identity_pool_id, **config}


OPERATIONS: dict[str, Callable[[EmulatorState, Request, dict[str, Any]], dict[str, Any]]] = {
    f"{TARGET_PREFIX}GetId": get_id,
    f"{TARGET_PREFIX}GetCredentialsForIdentity": get_credentials_for_identity,
    f"{TARGET_PREFIX}GetOpenIdToken": get_open_id_token,
    f"{TARGET_PREFIX}GetOpenIdTokenForDeveloperIdentity": get_open_id_token_for_developer_identity,
    f"{TARGET_PREFIX}SetIdentityPoolRoles": set_identity_pool_roles,
    f"{TARGET_PREFIX}GetIdentityPoolRoles": get_identity_pool_roles,
}


def dispatch(state: EmulatorState, request: Request, *, target: str) -> Response:
    """Run the cognito-identity operation named by `X-Amz-Target` on the JSON body."""
    params = json_params(request)
    return json_response(OPERATIONS[target](state, request, params), content_type=AMZ_JSON)


def openid_jwks(state: EmulatorState, request: Request) -> Response:
    """The keys of the identity pools' OpenID tokens."""
    return json_response(openid.jwks())


# --- logins ----------------------------------------------------------------------------------


def _pool(pool_id: Any) -> CognitoIdentityPool:
    from moto.cognitoidentity.models import cognitoidentity_backends

    region = str(pool_id or "").split(":", 1)[0]
    backend = cognitoidentity_backends[seed.ACCOUNT_ID].get(region) if region else None
    pool = backend.identity_pools.get(str(pool_id)) if backend else None
    if pool is None:
        raise ResourceNotFound(f"IdentityPool '{pool_id}' not found.")
    return pool


def _identity(state: EmulatorState, identity_id: Any) -> Identity:
    identity = state.identities.identities.get(str(identity_id or ""))
    if identity is None:
        raise ResourceNotFound(f"Identity '{identity_id}' not found.")
    return identity


def _validated_logins(state: EmulatorState, pool: CognitoIdentityPool, logins: Any) -> list[Login]:
    if not logins:
        return []
    if not isinstance(logins, dict) or len(logins) > 10:
        raise InvalidParameter("Logins must be a map of at most 10 entries.")
    return [_validated_login(state, pool, key, str(token)) for key, token in logins.items()]


def _validated_login(
    state: EmulatorState, pool: CognitoIdentityPool, key: str, token: str
) -> Login:
    if key == OPENID_PROVIDER:
        return _developer_login(pool, token)
    provider = _provider_name(state, key)
    clients = [
        p.get("ClientId")
        for p in pool.cognito_identity_providers
        if p.get("ProviderName") == provider
    ]
    if not clients:
        raise NotAuthorized("Token is not from a supported provider of this identity pool.")
    user_pool_id = provider.rsplit("/", 1)[-1]
    claims = _verified_id_token(state, token, user_pool_id)
    audience = claims.get("azp") or claims.get("aud")
    if audience not in clients:
        raise NotAuthorized("Invalid login token. Incorrect token audience.")
    server_side_check = any(
        p.get("ServerSideTokenCheck") and p.get("ClientId") == audience
        for p in pool.cognito_identity_providers
        if p.get("ProviderName") == provider
    )
    if server_side_check and not _user_active(state, user_pool_id, claims):
        raise NotAuthorized("Invalid login token. The user is disabled or deleted.")
    return Login(provider=provider, subject=str(claims["sub"]), claims=claims, client_id=audience)


def _provider_name(state: EmulatorState, key: str) -> str:
    """The pool's provider name for a Logins key: the AWS form, or the local issuer's host form."""
    local_host = urlsplit(state.url).netloc
    if local_host and key.startswith(f"{local_host}/"):
        return user_pool_provider(key.split("/", 1)[1])
    return key


def _verified_id_token(state: EmulatorState, token: str, user_pool_id: str) -> dict[str, Any]:
    key = state.keys.id_key
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise NotAuthorized(
            "Invalid login token. Not a valid OpenId Connect identity token."
        ) from None
    if header.get("kid") != key.kid:
        raise NotAuthorized("Invalid login token. Couldn't verify signed token.")
    try:
        claims = jwt.decode(
            token,
            key.private_key.public_key(),
            algorithms=["RS256"],
            options={"require": ["exp", "iat", "iss", "sub", "aud"], "verify_aud": False},
        )
    except jwt.ExpiredSignatureError:
        raise NotAuthorized("Invalid login token. Token expired.") from None
    except jwt.InvalidTokenError:
        raise NotAuthorized("Invalid login token. Couldn't verify signed token.") from None
    if claims.get("iss") != state.tokens.issuer(user_pool_id):
        raise NotAuthorized("Invalid login token. Issuer doesn't match providerName")
    if claims.get("token_use") != "id":
        raise NotAuthorized("Invalid login token. Not a valid OpenId Connect identity token.")
    return claims


def _user_active(state: EmulatorState, user_pool_id: str, claims: dict[str, Any]) -> bool:
    pool = state.backend.user_pools.get(user_pool_id)
    user = pool.users.get(str(claims.get("cognito:username"))) if pool else None
    return bool(user and user.enabled)


def _developer_login(pool: CognitoIdentityPool, token: str) -> Login:
    try:
        claims = openid.decode(token)
    except jwt.InvalidTokenError:
        raise NotAuthorized("Invalid login token. Couldn't verify signed token.") from None
    if claims.get("aud") != pool.identity_pool_id:
        raise NotAuthorized("Invalid login token. Incorrect token audience.")
    return Login(provider=OPENID_PROVIDER, subject=str(claims["sub"]), claims=claims)


def _identity_for_logins(
    state: EmulatorState, pool: CognitoIdentityPool, logins: list[Login]
) -> Identity:
    """The identity these logins name: an OpenID token names it, a user pool login derives it."""
    first = logins[0]
    if first.provider == OPENID_PROVIDER:
        return _identity(state, first.subject)
    identity_id = identity_id_for(pool.identity_pool_id, first.provider, first.subject)
    identity = state.identities.identities.get(identity_id) or Identity(
        identity_id, pool.identity_pool_id
    )
    for login in logins:
        if login.provider != OPENID_PROVIDER:
            identity.logins[login.provider] = login.subject
    return identity


def _logins_for(
    state: EmulatorState, pool: CognitoIdentityPool, identity: Identity, raw_logins: Any
) -> list[Login]:
    """The logins of a credentials request: none for a guest, one linked login for a user."""
    logins = _validated_logins(state, pool, raw_logins)
    if not identity.authenticated:
        if logins:
            raise NotAuthorized(LOGINS_DONT_MATCH)
        return []
    matching = [
        login
        for login in logins
        if identity.logins.get(login.provider) == login.subject
        or (login.provider == OPENID_PROVIDER and login.subject == identity.identity_id)
    ]
    if not matching:
        raise NotAuthorized(LOGINS_DONT_MATCH)
    return matching


def _amr(logins: list[Login]) -> list[str]:
    if not logins:
        return ["unauthenticated"]
    amr = ["authenticated"]
    for login in logins:
        if login.provider == OPENID_PROVIDER:
            amr += [value for value in login.claims.get("amr", []) if value != "authenticated"]
        else:
            amr += [login.provider, f"{login.provider}:CognitoSignIn:{login.subject}"]
    return amr


# --- roles -----------------------------------------------------------------------------------


def _choose_role(
    state: EmulatorState,
    pool: CognitoIdentityPool,
    identity: Identity,
    logins: list[Login],
    custom_role_arn: Any,
) -> str:
    """The role for these credentials: guest role, a mapping's choice, or the default role."""
    config = state.identities.roles.get(pool.identity_pool_id, {})
    roles = config.get("Roles", {})
    if not logins:
        return _configured(roles.get("unauthenticated"))
    for login in logins:
        mapping = config.get("RoleMappings", {}).get(f"{login.provider}:{login.client_id}")
        if mapping:
            return _mapped_role(mapping, login.claims, roles, custom_role_arn)
    return _configured(roles.get("authenticated"))


def _mapped_role(
    mapping: dict[str, Any], claims: dict[str, Any], roles: dict[str, str], custom_role_arn: Any
) -> str:
    if mapping.get("Type") == "Token":
        token_roles = claims.get("cognito:roles") or []
        if custom_role_arn:
            if custom_role_arn in token_roles:
                return str(custom_role_arn)
            raise NotAuthorized("The CustomRoleArn is not among the roles of the token.")
        if claims.get("cognito:preferred_role"):
            return str(claims["cognito:preferred_role"])
    elif mapping.get("Type") == "Rules":
        rules = (mapping.get("RulesConfiguration") or {}).get("Rules", [])
        for rule in rules:
            if _rule_matches(rule, claims):
                return str(rule["RoleARN"])
    if mapping.get("AmbiguousRoleResolution") == "AuthenticatedRole":
        return _configured(roles.get("authenticated"))
    raise NotAuthorized("Ambiguous role resolution: no role could be chosen for this user.")


def _rule_matches(rule: dict[str, Any], claims: dict[str, Any]) -> bool:
    value = claims.get(rule.get("Claim", ""))
    if value is None:
        return False  # NotEqual on a missing claim is skipped too
    values = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    wanted = str(rule.get("Value", ""))
    match_type = rule.get("MatchType")
    if match_type == "Equals":
        return wanted in values
    if match_type == "Contains":
        return any(wanted in v for v in values)
    if match_type == "StartsWith":
        return any(v.startswith(wanted) for v in values)
    if match_type == "NotEqual":
        return wanted not in values
    return False


def _configured(role_arn: str | None) -> str:
    if not role_arn:
        raise InvalidIdentityPoolConfiguration(
            "Invalid identity pool configuration. Check assigned IAM roles for this pool."
        )
    return role_arn


def _require_signed(state: EmulatorState, request: Request) -> None:
    """Developer and admin operations need the app's own SigV4 credentials, never a user's."""
    try:
        signed = sigv4.signed_request(request)
    except sigv4.SignatureError as error:
        raise MissingAuthenticationToken(error.message) from None
    if signed is None:
        raise MissingAuthenticationToken("Missing Authentication Token")
    if state.sessions.get(signed.access_key_id) is not None:
        # Identity-pool credentials never grant cognito-identity's administrative operations.
        raise NotAuthorized("The credentials are not allowed to call this operation.")
