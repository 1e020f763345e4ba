"""Pre token generation triggers, versions 1, 2 and 3, run at every token issue.

As the custom auth triggers (emulator/triggers.py), a trigger is a Python callable named by a
dotted path, called as a Lambda handler is, `handler(event, context)`, with Cognito's event.
What Cognito defines, and this module follows (DOCS
https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-pre-token-generation.html
and DG23:user-pool-lambda-pre-token-generation):

- `triggerSource`: TokenGeneration_HostedAuth (managed login and federated sign-in, through the
  token endpoint), _Authentication (the native API), _NewPasswordChallenge (after a temporary
  password), _AuthenticateDevice, _RefreshTokens, and _ClientCredentials (machines, V3_0 only).
- `V1_0` customizes the ID token: the response is `claimsOverrideDetails` with
  `claimsToAddOrOverride` (a map of strings), `claimsToSuppress` and `groupOverrideDetails`.
- `V2_0` and `V3_0` send one event for both tokens, with `request.scopes`, and read
  `claimsAndScopeOverrideDetails`: `idTokenGeneration` and `accessTokenGeneration` (each
  `claimsToAddOrOverride` with any JSON value, `claimsToSuppress`; the access token also
  `scopesToAdd` and `scopesToSuppress`) and `groupOverrideDetails`. V2_0 applies to user sign-ins
  only; V3_0 also to machine (client_credentials) tokens.
- `groupOverrideDetails` replaces `cognito:groups` in both tokens (and the roles in the ID token);
  present but empty or null, it suppresses them.
- A claim both added and suppressed is suppressed; some claims never change (emulator.tokens).
- A trigger that fails fails the sign-in: the native API answers UserLambdaValidationException
  ("PreTokenGeneration failed with error ..."), an answer Cognito cannot read
  InvalidLambdaResponseException; the token endpoint answers `invalid_request`.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from emulator import seed
from emulator.errors import CognitoError, InvalidLambdaResponse
from emulator.tokens import (
    NATIVE_SCOPE,
    NO_CHANGES,
    ClaimChanges,
    GroupOverride,
    token_lifetimes,
    user_attributes,
    user_roles,
)
from emulator.triggers import TriggerContext

if TYPE_CHECKING:
    from moto.cognitoidp.models import CognitoIdpUser, CognitoIdpUserPoolClient

    from emulator.state import EmulatorState

# Keys in `state.flows.triggers[pool id]`, beside the custom auth triggers.
HANDLER_KEY = "PreTokenGeneration"
VERSION_KEY = "PreTokenGenerationVersion"

HOSTED_AUTH = "TokenGeneration_HostedAuth"
AUTHENTICATION = "TokenGeneration_Authentication"
NEW_PASSWORD_CHALLENGE = "TokenGeneration_NewPasswordChallenge"
AUTHENTICATE_DEVICE = "TokenGeneration_AuthenticateDevice"
REFRESH_TOKENS = "TokenGeneration_RefreshTokens"
CLIENT_CREDENTIALS = "TokenGeneration_ClientCredentials"
EVENT_VERSIONS = {"V1_0": "1", "V2_0": "2", "V3_0": "3"}
UNRECOGNIZABLE = "Unrecognizable lambda output"


class UserLambdaValidation(CognitoError):
    code = "UserLambdaValidationException"


@dataclass(frozen=True)
class Customization:
    """A trigger's answer, ready for the token factory: the scopes and each token's changes."""

    scopes: tuple[str, ...]
    id_changes: ClaimChanges = NO_CHANGES
    access_changes: ClaimChanges = NO_CHANGES
    groups: GroupOverride | None = None


@dataclass(frozen=True)
class IssuedTokens:
    """The tokens of one issue: access, ID (unless the grant has none) and their lifetime."""

    access_token: str
    id_token: str | None
    expires_in: int


def configure(state: EmulatorState, pool_id: str, *, handler: str | None, version: str) -> None:
    """Set (or, with `handler=None`, remove) the pool's pre token generation trigger."""
    if version not in EVENT_VERSIONS:
        raise ValueError(f"LambdaVersion must be one of {sorted(EVENT_VERSIONS)}")
    with state.lock:
        triggers = state.flows.triggers.setdefault(pool_id, {})
        triggers.pop(HANDLER_KEY, None)
        triggers.pop(VERSION_KEY, None)
        if handler:
            triggers.update({HANDLER_KEY: handler, VERSION_KEY: version})


def issue_user_tokens(
    state: EmulatorState,
    *,
    source: str,
    client: CognitoIdpUserPoolClient,
    user: CognitoIdpUser,
    scopes: tuple[str, ...],
    origin_jti: str,
    with_id_token: bool = True,
    nonce: str | None = None,
    with_at_hash: bool = False,
) -> IssuedTokens:
    """Access (and ID) tokens of a user's session after the trigger, registered with moto."""
    custom = customize(state, source=source, client_id=client.id, user=user, scopes=scopes)
    lifetimes = token_lifetimes(client)
    pool = state.pool
    access_token = state.tokens.access_token(
        user=user,
        client_id=client.id,
        scopes=custom.scopes,
        origin_jti=origin_jti,
        lifetime=lifetimes.access,
        changes=custom.access_changes,
        groups=custom.groups,
    )
    pool.access_tokens[access_token] = (client.id, user.username)
    id_token = None
    if with_id_token:
        id_token = state.tokens.id_token(
            user=user,
            client=client,
            client_id=client.id,
            origin_jti=origin_jti,
            lifetime=lifetimes.id,
            nonce=nonce,
            access_token=access_token if with_at_hash else None,
            changes=custom.id_changes,
            groups=custom.groups,
        )
        pool.id_tokens[id_token] = (client.id, user.username)
    return IssuedTokens(access_token=access_token, id_token=id_token, expires_in=lifetimes.access)


def issue_machine_token(
    state: EmulatorState, *, client: CognitoIdpUserPoolClient, scopes: tuple[str, ...]
) -> IssuedTokens:
    """A client_credentials access token, after a V3_0 trigger (V1_0 and V2_0 are not called)."""
    custom = customize(
        state, source=CLIENT_CREDENTIALS, client_id=client.id, user=None, scopes=scopes
    )
    lifetime = token_lifetimes(client).access
    token = state.tokens.machine_access_token(
        pool_id=state.pool.id,
        client_id=client.id,
        scopes=custom.scopes,
        lifetime=lifetime,
        changes=custom.access_changes,
    )
    return IssuedTokens(access_token=token, id_token=None, expires_in=lifetime)


def customize(
    state: EmulatorState,
    *,
    source: str,
    client_id: str,
    user: CognitoIdpUser | None,
    scopes: tuple[str, ...],
) -> Customization:
    """Run the pool's trigger, if it has one for this kind of token; read its answer."""
    pool_id = state.pool.id
    triggers = state.flows.triggers.get(pool_id, {})
    path = triggers.get(HANDLER_KEY)
    version = triggers.get(VERSION_KEY, "V1_0")
    if not path or (user is None and version != "V3_0"):
        return Customization(scopes=scopes)
    event = _event(version=version, source=source, pool_id=pool_id, client_id=client_id, user=user)
    if version != "V1_0":
        event["request"]["scopes"] = list(scopes)
    module_name, _, function_name = path.rpartition(".")
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
        result = handler(event, TriggerContext(function_name=function_name, inbox=state.inbox))
    except Exception as error:  # whatever the function raises fails the sign-in, as a Lambda's
        raise UserLambdaValidation(f"PreTokenGeneration failed with error {error}.") from None
    if not isinstance(result, dict) or not isinstance(result.get("response"), dict):
        raise InvalidLambdaResponse(UNRECOGNIZABLE)
    if version == "V1_0":
        return _read_v1(result["response"], scopes=scopes)
    return _read_v2(result["response"], scopes=scopes)


def _event(
    *, version: str, source: str, pool_id: str, client_id: str, user: CognitoIdpUser | None
) -> dict[str, Any]:
    request: dict[str, Any] = {"userAttributes": {}, "clientMetadata": {}}
    event: dict[str, Any] = {
        "version": EVENT_VERSIONS[version],
        "triggerSource": source,
        "region": pool_id.split("_", 1)[0],
        "userPoolId": pool_id,
        "callerContext": {"awsSdkVersion": "emulator", "clientId": client_id},
        "request": request,
    }
    # A machine token has no user: no userName, attributes or groups (the exact M2M event
    # fields beyond triggerSource and scopes are unverified).
    if user is not None:
        event["userName"] = user.username
        request["userAttributes"] = {
            **user_attributes(user),
            "cognito:user_status": str(user.status),
        }
        roles = user_roles(user)
        request["groupConfiguration"] = {
            "groupsToOverride": sorted(group.group_name for group in user.groups),
            "iamRolesToOverride": roles.get("cognito:roles", []),
            "preferredRole": roles.get("cognito:preferred_role"),
        }
    details_key = "claimsOverrideDetails" if version == "V1_0" else "claimsAndScopeOverrideDetails"
    event["response"] = {details_key: None}
    return copy.deepcopy(event)


def _read_v1(response: Mapping[str, Any], *, scopes: tuple[str, ...]) -> Customization:
    details = _object(response.get("claimsOverrideDetails"))
    if details is None:
        return Customization(scopes=scopes)
    added = _object(details.get("claimsToAddOrOverride")) or {}
    if not all(isinstance(value, str) for value in added.values()):
        raise InvalidLambdaResponse(UNRECOGNIZABLE)  # V1_0 claims are a map of strings
    changes = ClaimChanges(add=added, suppress=_names(details.get("claimsToSuppress")))
    return Customization(scopes=scopes, id_changes=changes, groups=_groups(details))


def _read_v2(response: Mapping[str, Any], *, scopes: tuple[str, ...]) -> Customization:
    details = _object(response.get("claimsAndScopeOverrideDetails"))
    if details is None:
        return Customization(scopes=scopes)
    id_generation = _object(details.get("idTokenGeneration")) or {}
    access_generation = _object(details.get("accessTokenGeneration")) or {}
    to_add = _list_of_names(access_generation.get("scopesToAdd"), scopes=True)
    to_suppress = _names(access_generation.get("scopesToSuppress"), scopes=True)
    return Customization(
        # The scopes granted, then the added ones; a scope both added and suppressed is not kept.
        scopes=tuple(s for s in dict.fromkeys((*scopes, *to_add)) if s not in to_suppress),
        id_changes=_claim_changes(id_generation),
        access_changes=_claim_changes(access_generation),
        groups=_groups(details),
    )


def _claim_changes(generation: Mapping[str, Any]) -> ClaimChanges:
    added = _object(generation.get("claimsToAddOrOverride")) or {}
    if any(value is None for value in added.values()):
        raise InvalidLambdaResponse(UNRECOGNIZABLE)
    return ClaimChanges(
        add=copy.deepcopy(added), suppress=_names(generation.get("claimsToSuppress"))
    )


def _groups(details: Mapping[str, Any]) -> GroupOverride | None:
    if "groupOverrideDetails" not in details:
        return None
    # Present but empty or null: the groups (and their roles) are suppressed.
    override = _object(details["groupOverrideDetails"]) or {}
    preferred = override.get("preferredRole")
    if preferred is not None and not isinstance(preferred, str):
        raise InvalidLambdaResponse(UNRECOGNIZABLE)
    return GroupOverride(
        groups=tuple(_list_of_names(override.get("groupsToOverride"))),
        roles=tuple(_list_of_names(override.get("iamRolesToOverride"))),
        preferred_role=preferred or None,
    )


def _object(value: object) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
        raise InvalidLambdaResponse(UNRECOGNIZABLE)
    return value


def _names(value: object, *, scopes: bool = False) -> frozenset[str]:
    return frozenset(_list_of_names(value, scopes=scopes))


def _list_of_names(value: object, *, scopes: bool = False) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(name, str) and name for name in value):
        raise InvalidLambdaResponse(UNRECOGNIZABLE)
    # A scope is one token of the space-separated `scope` claim.
    if scopes and any(len(name.split()) != 1 or name != name.strip() for name in value):
        raise InvalidLambdaResponse(UNRECOGNIZABLE)
    return list(value)


# The seed's trigger (seed.PRE_TOKEN_GENERATION, V3_0).


def notes_scopes_for_writers(event: dict[str, Any], context: TriggerContext) -> dict[str, Any]:
    """API sign-ins of the writers' group gain notes/read and notes/write; nothing else changes.

    The source text's case: tokens from the native API carry only aws.cognito.signin.user.admin,
    and the trigger is how such a token gets custom scopes. OAuth sign-ins keep the scopes their
    client asked for, and machines keep their client's.
    """
    if event["triggerSource"] == CLIENT_CREDENTIALS:
        return event
    request = event["request"]
    groups = (request.get("groupConfiguration") or {}).get("groupsToOverride") or []
    if request.get("scopes") == [NATIVE_SCOPE] and seed.NOTES_WRITERS_GROUP in groups:
        event["response"]["claimsAndScopeOverrideDetails"] = {
            "accessTokenGeneration": {"scopesToAdd": [seed.NOTES_READ, seed.NOTES_WRITE]}
        }
    return event
