"""Threat protection: the pool's risk configuration, a deterministic risk rule, and auth events.

Cognito scores each sign-in with a model of its own; the emulator uses a rule that tests and the
demo can rely on, from the address and device the app passes in `UserContextData`/`ContextData`
(or the browser's address, on managed login):

- an address in `RiskExceptionConfiguration.SkippedIPRangeList` is never scored;
- an address in `BlockedIPRangeList` is always blocked (in ENFORCED mode);
- an address in the seed's risky ranges (`seed.RISKY_IP_RANGES`, 203.0.113.0/24) is High risk;
- for a user who has signed in before, a new address is Low risk, and a new address together
  with a new device (`EncodedData` never seen for the user) is Medium risk;
- anything else is no risk. A sign-in without any address is not scored.

Each level takes the action the configuration gives it: NO_ACTION, MFA_IF_CONFIGURED (an MFA
challenge when the user has a factor or a verified email or phone; otherwise allowed),
MFA_REQUIRED (the same, otherwise blocked), BLOCK; `Notify` emails the user (to the inbox)
with the event's id and feedback token. A password on `LEAKED_PASSWORDS` is compromised: with
`EventAction` BLOCK the sign-in sets the user to RESET_REQUIRED, and a sign-up or password change
is refused. AUDIT mode scores and records every event but never acts or notifies; OFF does
nothing. `AdvancedSecurityMode` is the pool's `UserPoolAddOns` (Cognito's Plus feature plan).
"""

from __future__ import annotations

import ipaddress
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from moto.cognitoidp.models import UserStatus

from emulator import seed
from emulator.errors import (
    CognitoError,
    InvalidParameter,
    InvalidPassword,
    NotAuthorized,
    ResourceNotFound,
    UserNotFound,
)
from emulator.stores import on_pool

if TYPE_CHECKING:
    from moto.cognitoidp.models import CognitoIdpUser
    from werkzeug.wrappers import Request

    from emulator.state import EmulatorState

# The demo's list of leaked passwords (each meets the pool's policy, so only this check stops it).
LEAKED_PASSWORDS = frozenset(
    {
        "Password123!",
        "P@ssw0rd123",
        "Passw0rd!",
        "Welcome1!",
        "Qwerty123!",
        "Summer2024!",
        "Letmein123!",
        "Iloveyou1!",
    }
)
# Cognito's answers: a blocked sign-in, and a compromised password refused at sign-up or change.
BLOCKED = "Unable to login because of security reasons."
LEAKED = "Provided password cannot be used for security reasons."
FEEDBACK_REFUSED = "Invalid feedback token."
POOL_LEVEL = "ALL"
# How long a sign-in may wait for its MFA code and still be the one that ends in tokens.
IN_PROGRESS_SECONDS = 10 * 60
_EVENT_ACTIONS = {"BLOCK", "MFA_IF_CONFIGURED", "MFA_REQUIRED", "NO_ACTION"}
_LEVEL_ACTIONS = {"Low": "LowAction", "Medium": "MediumAction", "High": "HighAction"}
_EVENT_FILTERS = {"SIGN_IN", "PASSWORD_CHANGE", "SIGN_UP"}
_EVENT_TYPES = {"SIGN_UP": "SignUp", "PASSWORD_CHANGE": "PasswordChange"}


class UserPoolAddOnNotEnabled(CognitoError):
    code = "UserPoolAddOnNotEnabledException"


@dataclass(frozen=True)
class Context:
    """What the app told the pool about the request: the user's address and device."""

    ip: str | None = None
    device: str | None = None
    device_name: str | None = None


@dataclass
class AuthEvent:
    """One sign-in, sign-up or password change, as AdminListUserAuthEvents lists it."""

    id: str
    type: str
    created: float
    context: Context
    response: str = "InProgress"
    decision: str = "NoRisk"
    level: str | None = None
    compromised: bool = False
    challenges: list[tuple[str, str]] = field(default_factory=list)
    feedback: dict[str, Any] | None = None
    feedback_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    mfa_asked: bool = False

    def to_json(self) -> dict[str, Any]:
        risk: dict[str, Any] = {
            "RiskDecision": self.decision,
            "CompromisedCredentialsDetected": self.compromised,
        }
        if self.level:
            risk["RiskLevel"] = self.level
        context = {"IpAddress": self.context.ip, "DeviceName": self.context.device_name}
        event = {
            "EventId": self.id,
            "EventType": self.type,
            "CreationDate": self.created,
            "EventResponse": self.response,
            "EventRisk": risk,
            "ChallengeResponses": [
                {"ChallengeName": name, "ChallengeResponse": result}
                for name, result in self.challenges
            ],
            "EventContextData": {k: v for k, v in context.items() if v},
        }
        if self.feedback:
            event["EventFeedback"] = self.feedback
        return event


@dataclass
class RiskStore:
    """Risk configurations (by client id, POOL_LEVEL for the pool), events and known devices."""

    configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: dict[str, list[AuthEvent]] = field(default_factory=dict)
    known_ips: dict[str, set[str]] = field(default_factory=dict)
    known_devices: dict[str, set[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Assessment:
    """The verdict on one sign-in: blocked, MFA to ask for, or nothing to do."""

    blocked: bool = False
    mfa: str | None = None  # MFA_IF_CONFIGURED or MFA_REQUIRED
    event_id: str | None = None


def store(state: EmulatorState) -> RiskStore:
    """The demo pool's risk store (kept on moto's pool object, so a reset clears it)."""
    return on_pool(state.pool, "threat_protection", RiskStore)


def mode(state: EmulatorState) -> str:
    """The pool's AdvancedSecurityMode: OFF, AUDIT or ENFORCED."""
    add_ons = state.pool.extended_config.get("UserPoolAddOns") or {}
    return str(add_ons.get("AdvancedSecurityMode") or "OFF")


def config_for(state: EmulatorState, client_id: str | None) -> dict[str, Any]:
    """The client's risk configuration, else the pool's."""
    configs = store(state).configs
    return configs.get(client_id or POOL_LEVEL) or configs.get(POOL_LEVEL) or {}


# Context.


def context_of(params: dict[str, Any]) -> Context:
    """The context an API call carries: `UserContextData` (public) or `ContextData` (admin)."""
    for name in ("UserContextData", "ContextData"):
        data = params.get(name)
        if isinstance(data, dict) and data.get("IpAddress"):
            headers = {
                str(h.get("headerName", "")).lower(): str(h.get("headerValue", ""))
                for h in data.get("HttpHeaders") or []
                if isinstance(h, dict)
            }
            return Context(
                ip=str(data["IpAddress"]),
                device=str(data.get("EncodedData") or "") or None,
                device_name=headers.get("user-agent"),
            )
    return Context()


def browser_context(request: Request) -> Context:
    """Managed login sees the browser itself: its address and user agent."""
    return Context(ip=request.remote_addr, device_name=request.headers.get("User-Agent"))


def _in_ranges(ip: str | None, ranges: list[str] | tuple[str, ...]) -> bool:
    if not ip:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(r, strict=False) for r in ranges)


def risk_level(state: EmulatorState, username: str, context: Context) -> str | None:
    """The rule in this module's docstring: High, Medium, Low or None."""
    if not context.ip:
        return None
    if _in_ranges(context.ip, seed.RISKY_IP_RANGES):
        return "High"
    risk_store = store(state)
    ips = risk_store.known_ips.get(username) or set()
    if not ips or context.ip in ips:
        return None
    devices = risk_store.known_devices.get(username) or set()
    return "Medium" if context.device and context.device not in devices else "Low"


# Sign-in.


def assess_sign_in(
    state: EmulatorState, *, client_id: str, user: CognitoIdpUser, context: Context
) -> Assessment:
    """Score a sign-in whose password was right; record it; act as the mode and config say.

    Blocking is answered by the caller (`BLOCKED`); a compromised password with BLOCK sets the
    user to RESET_REQUIRED, which the sign-in's status check then reports.
    """
    current = mode(state)
    if current == "OFF":
        return Assessment()
    config = config_for(state, client_id)
    exceptions = config.get("RiskExceptionConfiguration") or {}
    event = _new_event(state, user.username, "SignIn", context)
    event.challenges.append(("Password", "Success"))
    compromised_config = config.get("CompromisedCredentialsRiskConfiguration") or {}
    event.compromised = user.password in LEAKED_PASSWORDS and "SIGN_IN" in (
        compromised_config.get("EventFilter") or _EVENT_FILTERS
    )
    if _in_ranges(context.ip, exceptions.get("SkippedIPRangeList") or []):
        level, action, notify = None, "NO_ACTION", False
    elif _in_ranges(context.ip, exceptions.get("BlockedIPRangeList") or []):
        level, action, notify = None, "BLOCK", False
    else:
        level = risk_level(state, user.username, context)
        settings = (
            ((config.get("AccountTakeoverRiskConfiguration") or {}).get("Actions") or {}).get(
                _LEVEL_ACTIONS[level]
            )
            if level
            else None
        ) or {}
        action = str(settings.get("EventAction") or "NO_ACTION")
        notify = bool(settings.get("Notify"))
    event.level = level
    block_compromised = (
        event.compromised
        and (compromised_config.get("Actions") or {}).get("EventAction") == "BLOCK"
    )
    event.decision = (
        "Block"
        if action == "BLOCK" or block_compromised
        else ("AccountTakeover" if level else "NoRisk")
    )
    if current != "ENFORCED":
        return Assessment(event_id=event.id)
    if notify:
        _notify(state, user, event)
    if block_compromised:
        event.response = "Fail"
        user.status = UserStatus.RESET_REQUIRED
        return Assessment(event_id=event.id)
    if action == "BLOCK":
        event.response = "Fail"
        return Assessment(blocked=True, event_id=event.id)
    mfa = action if action in ("MFA_IF_CONFIGURED", "MFA_REQUIRED") else None
    return Assessment(mfa=mfa, event_id=event.id)


def adaptive_factor(
    state: EmulatorState, user: CognitoIdpUser, assessment: Assessment, *, factors: list[str]
) -> str | None:
    """The MFA challenge risk adds for a user without a factor: EMAIL_OTP or SMS_MFA, or None.

    A user with a factor is challenged anyway. With MFA_REQUIRED and nothing to send a code to,
    the sign-in is blocked (NotAuthorizedException).
    """
    if assessment.mfa is None or factors:
        return None
    attributes = user.attribute_lookup
    if attributes.get("email") and attributes.get("email_verified") == "true":
        return "EMAIL_OTP"
    if attributes.get("phone_number") and attributes.get("phone_number_verified") == "true":
        return "SMS_MFA"
    if assessment.mfa == "MFA_REQUIRED":
        _update(state, user.username, assessment.event_id, response="Fail", decision="Block")
        raise NotAuthorized(BLOCKED)
    return None


def password_failed(
    state: EmulatorState, *, client_id: str, user: CognitoIdpUser, context: Context
) -> None:
    """A wrong password: a failed SignIn event."""
    if mode(state) == "OFF":
        return
    event = _new_event(state, user.username, "SignIn", context)
    event.level = risk_level(state, user.username, context)
    event.response = "Fail"
    event.challenges.append(("Password", "Failure"))


def mfa_asked(state: EmulatorState, username: str) -> None:
    """The sign-in in progress was asked for an MFA code."""
    event = _in_progress(state, username)
    if event is not None:
        event.mfa_asked = True


def mfa_failed(state: EmulatorState, username: str) -> None:
    """A wrong MFA code in the sign-in in progress."""
    event = _in_progress(state, username)
    if event is not None:
        event.challenges.append(("Mfa", "Failure"))


def signed_in(state: EmulatorState, username: str) -> None:
    """The sign-in in progress ended in tokens: Pass, and its address and device become known."""
    event = _in_progress(state, username)
    if event is None:
        return
    with state.lock:
        if event.mfa_asked:
            event.challenges.append(("Mfa", "Success"))
        event.response = "Pass"
        _remember(state, username, event.context)


def _remember(state: EmulatorState, username: str, context: Context) -> None:
    risk_store = store(state)
    if context.ip:
        risk_store.known_ips.setdefault(username, set()).add(context.ip)
    if context.device:
        risk_store.known_devices.setdefault(username, set()).add(context.device)


def _in_progress(state: EmulatorState, username: str) -> AuthEvent | None:
    events = store(state).events.get(username) or []
    since = time.time() - IN_PROGRESS_SECONDS
    return next(
        (e for e in reversed(events) if e.response == "InProgress" and e.created >= since), None
    )


def _new_event(state: EmulatorState, username: str, kind: str, context: Context) -> AuthEvent:
    event = AuthEvent(id=str(uuid.uuid4()), type=kind, created=time.time(), context=context)
    with state.lock:
        store(state).events.setdefault(username, []).append(event)
    return event


def _update(state: EmulatorState, username: str, event_id: str | None, **changes: Any) -> None:
    for event in store(state).events.get(username) or []:
        if event.id == event_id:
            for name, value in changes.items():
                setattr(event, name, value)


def _notify(state: EmulatorState, user: CognitoIdpUser, event: AuthEvent) -> None:
    """The account-takeover email, with what UpdateAuthEventFeedback needs."""
    email = user.attribute_lookup.get("email")
    if not email:
        return
    state.inbox.send(
        to=email,
        kind="risk_notification",
        subject="Sign-in attempt to your account",
        body=(
            f"We noticed a sign-in to your account from {event.context.ip or 'an unknown address'}"
            f" ({event.level or 'blocked'} risk). Was this you? Event {event.id};"
            f" feedback token {event.feedback_token}."
        ),
    )


# Sign-up and password changes.


def check_password(
    state: EmulatorState,
    *,
    client_id: str | None,
    username: str,
    password: str,
    event: str,
    kind: str | None = None,
) -> None:
    """Refuse a compromised password at sign-up or a password change, when configured to block.

    `event` is the EventFilter value (SIGN_UP or PASSWORD_CHANGE); `kind` the EventType to record
    (ForgotPassword for a reset); the event is recorded only for an existing user.
    """
    current = mode(state)
    if current == "OFF" or password not in LEAKED_PASSWORDS:
        return
    config = (config_for(state, client_id) or {}).get(
        "CompromisedCredentialsRiskConfiguration"
    ) or {}
    if event not in (config.get("EventFilter") or _EVENT_FILTERS):
        return
    block = current == "ENFORCED" and (config.get("Actions") or {}).get("EventAction") == "BLOCK"
    if state.pool._get_user(username) is not None:
        recorded = _new_event(state, username, kind or _EVENT_TYPES[event], Context())
        recorded.compromised = True
        recorded.decision = "Block" if block else "NoRisk"
        recorded.response = "Fail" if block else "Pass"
    if block:
        raise InvalidPassword(LEAKED)


# Operations.


def set_risk_configuration(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """SetRiskConfiguration: the pool's (no ClientId, or ALL) or one client's configuration."""
    _check_pool(state, params)
    if mode(state) == "OFF":
        raise UserPoolAddOnNotEnabled("Threat protection is not enabled for this user pool.")
    client_id = _client_scope(state, params)
    config: dict[str, Any] = {}
    compromised = params.get("CompromisedCredentialsRiskConfiguration")
    if compromised is not None:
        config["CompromisedCredentialsRiskConfiguration"] = _compromised(compromised)
    takeover = params.get("AccountTakeoverRiskConfiguration")
    if takeover is not None:
        config["AccountTakeoverRiskConfiguration"] = _takeover(takeover)
    exceptions = params.get("RiskExceptionConfiguration")
    if exceptions is not None:
        config["RiskExceptionConfiguration"] = _exceptions(exceptions)
    config["LastModifiedDate"] = time.time()
    with state.lock:
        store(state).configs[client_id] = config
    return {"RiskConfiguration": _describe(state, client_id, config)}


def describe_risk_configuration(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """DescribeRiskConfiguration: the client's own configuration, else the pool's."""
    _check_pool(state, params)
    client_id = _client_scope(state, params)
    configs = store(state).configs
    scope = client_id if client_id in configs else POOL_LEVEL
    return {"RiskConfiguration": _describe(state, scope, configs.get(scope) or {})}


def admin_list_user_auth_events(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """AdminListUserAuthEvents: the user's events, newest first, in pages."""
    user = _enforced_user(state, params)
    limit = params.get("MaxResults")
    limit = 10 if limit in (None, 0) else limit
    if not isinstance(limit, int) or not 0 < limit <= 60:
        raise InvalidParameter("MaxResults must be between 0 and 60.")
    events = list(reversed(store(state).events.get(user.username) or []))
    start = _page_start(params.get("NextToken"), len(events))
    page = events[start : start + limit]
    result: dict[str, Any] = {"AuthEvents": [event.to_json() for event in page]}
    if start + limit < len(events):
        result["NextToken"] = f"{user.username}:{start + limit}"
    return result


def admin_update_auth_event_feedback(
    state: EmulatorState, params: dict[str, Any]
) -> dict[str, Any]:
    """AdminUpdateAuthEventFeedback: the administrator's Valid or Invalid on an event."""
    user = _enforced_user(state, params)
    value = _feedback_value(params)
    event = _event(state, user.username, _text(params, "EventId"))
    if event is None:
        raise ResourceNotFound("Auth event not found.")
    _record_feedback(state, user.username, event, value, provider="Admin")
    return {}


def update_auth_event_feedback(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """UpdateAuthEventFeedback: the user's answer, with the token from the notification email.

    It needs no credentials, so every mismatch (user, event, token) gets the same answer: it
    tells nothing about other users or their events.
    """
    _check_pool(state, params)
    username = _text(params, "Username")
    event_id = _text(params, "EventId")
    token = _text(params, "FeedbackToken")
    value = _feedback_value(params)
    user = state.pool._get_user(username)
    event = _event(state, user.username, event_id) if user is not None else None
    if (
        user is None
        or event is None
        or not secrets.compare_digest(event.feedback_token.encode(), token.encode())
    ):
        raise NotAuthorized(FEEDBACK_REFUSED)
    _record_feedback(state, user.username, event, value, provider="User")
    return {}


OPERATIONS = {
    "SetRiskConfiguration": set_risk_configuration,
    "DescribeRiskConfiguration": describe_risk_configuration,
    "AdminListUserAuthEvents": admin_list_user_auth_events,
    "AdminUpdateAuthEventFeedback": admin_update_auth_event_feedback,
    "UpdateAuthEventFeedback": update_auth_event_feedback,
}


def _record_feedback(
    state: EmulatorState, username: str, event: AuthEvent, value: str, *, provider: str
) -> None:
    with state.lock:
        event.feedback = {"FeedbackValue": value, "Provider": provider, "FeedbackDate": time.time()}
        if value == "Valid":
            # "This was me": the address and device are the user's from now on.
            _remember(state, username, event.context)


def _event(state: EmulatorState, username: str, event_id: str) -> AuthEvent | None:
    return next((e for e in store(state).events.get(username) or [] if e.id == event_id), None)


def _feedback_value(params: dict[str, Any]) -> str:
    value = _text(params, "FeedbackValue")
    if value not in ("Valid", "Invalid"):
        raise InvalidParameter(
            f"1 validation error detected: Value '{value}' at 'feedbackValue' failed to satisfy"
            " constraint: Member must satisfy enum value set: [Valid, Invalid]"
        )
    return value


def _page_start(token: object, total: int) -> int:
    if token is None:
        return 0
    try:
        start = int(str(token).rpartition(":")[2])
    except ValueError:
        raise InvalidParameter("Invalid NextToken.") from None
    if not 0 <= start <= total:
        raise InvalidParameter("Invalid NextToken.")
    return start


def _describe(state: EmulatorState, client_id: str, config: dict[str, Any]) -> dict[str, Any]:
    return {"UserPoolId": state.pool.id, "ClientId": client_id, **config}


def _client_scope(state: EmulatorState, params: dict[str, Any]) -> str:
    client_id = params.get("ClientId") or POOL_LEVEL
    if client_id != POOL_LEVEL and state.client(str(client_id)) is None:
        raise ResourceNotFound(f"User pool client {client_id} does not exist.")
    return str(client_id)


def _compromised(value: object) -> dict[str, Any]:
    if not isinstance(value, dict) or not isinstance(value.get("Actions"), dict):
        raise InvalidParameter("CompromisedCredentialsRiskConfiguration needs Actions.")
    action = value["Actions"].get("EventAction")
    if action not in ("BLOCK", "NO_ACTION"):
        raise InvalidParameter(
            f"1 validation error detected: Value '{action}' at"
            " 'compromisedCredentialsRiskConfiguration.actions.eventAction' failed to satisfy"
            " constraint: Member must satisfy enum value set: [BLOCK, NO_ACTION]"
        )
    filters = value.get("EventFilter")
    result: dict[str, Any] = {"Actions": {"EventAction": action}}
    if filters is not None:
        if not isinstance(filters, list) or any(f not in _EVENT_FILTERS for f in filters):
            raise InvalidParameter("EventFilter values must be SIGN_IN, PASSWORD_CHANGE, SIGN_UP.")
        result["EventFilter"] = list(filters)
    return result


def _takeover(value: object) -> dict[str, Any]:
    if not isinstance(value, dict) or not isinstance(value.get("Actions"), dict):
        raise InvalidParameter("AccountTakeoverRiskConfiguration needs Actions.")
    actions: dict[str, Any] = {}
    for name in _LEVEL_ACTIONS.values():
        action = value["Actions"].get(name)
        if action is None:
            continue
        if (
            not isinstance(action, dict)
            or action.get("EventAction") not in _EVENT_ACTIONS
            or not isinstance(action.get("Notify"), bool)
        ):
            raise InvalidParameter(
                f"{name} needs Notify (a boolean) and EventAction, one of"
                " BLOCK, MFA_IF_CONFIGURED, MFA_REQUIRED, NO_ACTION."
            )
        actions[name] = {"Notify": action["Notify"], "EventAction": action["EventAction"]}
    result: dict[str, Any] = {"Actions": actions}
    if value.get("NotifyConfiguration") is not None:
        result["NotifyConfiguration"] = value["NotifyConfiguration"]
    return result


def _exceptions(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidParameter("RiskExceptionConfiguration must be an object.")
    result: dict[str, Any] = {}
    for name in ("BlockedIPRangeList", "SkippedIPRangeList"):
        ranges = value.get(name)
        if ranges is None:
            continue
        if not isinstance(ranges, list) or len(ranges) > 200:
            raise InvalidParameter(f"{name} must be a list of at most 200 CIDR ranges.")
        for cidr in ranges:
            try:
                ipaddress.ip_network(str(cidr), strict=False)
            except ValueError:
                raise InvalidParameter(f"Invalid CIDR range {cidr} in {name}.") from None
        result[name] = list(ranges)
    return result


def _enforced_user(state: EmulatorState, params: dict[str, Any]) -> CognitoIdpUser:
    """The user an admin event operation names, once threat protection is on for the pool."""
    _check_pool(state, params)
    user = state.pool._get_user(_text(params, "Username"))
    if user is None:
        raise UserNotFound("User does not exist.")
    if mode(state) == "OFF":
        raise UserPoolAddOnNotEnabled("Threat protection is not enabled for this user pool.")
    return user


def _check_pool(state: EmulatorState, params: dict[str, Any]) -> None:
    pool_id = _text(params, "UserPoolId")
    if pool_id != state.pool.id:
        raise ResourceNotFound(f"User pool {pool_id} does not exist.")


def _text(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidParameter(f"Missing required parameter {name}")
    return value


# The seed.


def provision(state: EmulatorState) -> None:
    """The demo pool's threat protection: ENFORCED, with the seed's risk configuration."""
    pool = state.pool
    pool.extended_config["UserPoolAddOns"] = {"AdvancedSecurityMode": "ENFORCED"}
    store(state).configs[POOL_LEVEL] = {**seed.RISK_CONFIGURATION, "LastModifiedDate": time.time()}
