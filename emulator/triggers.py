"""Custom authentication triggers: Python callables standing in for Cognito's Lambda triggers.

A pool's triggers are dotted paths (`module.function`) in `state.flows.triggers[pool id]`, keyed
by Cognito's LambdaConfig names. Each is called as a Lambda handler is, `handler(event, context)`,
with Cognito's event shape, and returns the event with its `response` filled in.
"""

from __future__ import annotations

import copy
import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from emulator import codes
from emulator.errors import InvalidLambdaResponse, InvalidParameter
from emulator.tokens import user_attributes

if TYPE_CHECKING:
    from moto.cognitoidp.models import CognitoIdpUser

    from emulator.inbox import Inbox
    from emulator.state import EmulatorState

DEFINE = "DefineAuthChallenge"
CREATE = "CreateAuthChallenge"
VERIFY = "VerifyAuthChallengeResponse"
NOT_CONFIGURED = "Custom auth lambda trigger is not configured for the user pool."
MAX_CODE_TRIES = 3


@dataclass(frozen=True)
class TriggerContext:
    """What a trigger gets as its Lambda context: its name, and the inbox to send mail to."""

    function_name: str
    inbox: Inbox
    # The user's active MFA factors: what a real Lambda reads with AdminGetUser
    # (UserMFASettingList), since Cognito's event does not carry them.
    mfa_factors: tuple[str, ...] = ()


def configured(state: EmulatorState, pool_id: str) -> bool:
    """Whether the pool has the three custom-auth triggers."""
    triggers = state.flows.triggers.get(pool_id, {})
    return all(triggers.get(name) for name in (DEFINE, CREATE, VERIFY))


def invoke(
    state: EmulatorState,
    *,
    trigger: str,
    user: CognitoIdpUser,
    client_id: str,
    request: dict[str, Any],
    response: dict[str, Any],
    user_not_found: bool = False,
) -> dict[str, Any]:
    """Call one trigger with a Cognito-shaped event; return its `response`.

    `user_not_found`: the client hides which users exist and `user` is a stand-in for a name
    no user has; Cognito still runs the triggers, with `userNotFound` true.
    """
    path = state.flows.triggers.get(user.user_pool_id, {}).get(trigger)
    if not path:
        raise InvalidParameter(NOT_CONFIGURED)
    module_name, _, function_name = path.rpartition(".")
    handler = getattr(importlib.import_module(module_name), function_name)
    event = {
        "version": "1",
        "region": user.user_pool_id.split("_", 1)[0],
        "userPoolId": user.user_pool_id,
        "userName": user.username,
        "callerContext": {"awsSdkVersion": "emulator", "clientId": client_id},
        "triggerSource": f"{trigger}_Authentication",
        "request": {
            "userAttributes": user_attributes(user),
            "clientMetadata": {},
            "userNotFound": user_not_found,
            **copy.deepcopy(request),
        },
        "response": response,
    }
    from emulator.challenges import mfa_factors  # challenges imports this module

    context = TriggerContext(
        function_name=function_name,
        inbox=state.inbox,
        mfa_factors=tuple(mfa_factors(state, user)),
    )
    result = handler(event, context)
    if not isinstance(result, dict) or not isinstance(result.get("response"), dict):
        raise InvalidLambdaResponse(f"Invalid lambda response from {trigger}.")
    return result["response"]


# The seed's example: a one-time code emailed to the inbox, three tries, alone or after SRP.


def define_email_code(event: dict[str, Any], context: TriggerContext) -> dict[str, Any]:
    """DefineAuthChallenge: SRP first if the client started with it, then the emailed code.

    Accounts with MFA never get a code (see `create_email_code`): an emailed code is a first
    factor, and it never replaces the second factor an account has. Cognito's own choice-based
    sign-in draws the same line: a user with MFA configured is not offered passwordless sign-in
    (email or SMS one-time passwords), the one exception being a passkey with user verification
    once passkey MFA is on for the user
    (user-pool-settings-mfa.html#user-pool-settings-mfa-prerequisites; API_WebAuthnMfaSettingsType:
    "passkey sign-in is available when MFA is required"). For custom auth Cognito leaves the rule
    to this trigger.
    """
    session = event["request"]["session"]
    response = event["response"]
    last = session[-1] if session else None
    tries = [entry for entry in session if entry["challengeName"] == "CUSTOM_CHALLENGE"]
    if last and last["challengeName"] == "SRP_A":
        response.update(challengeName="PASSWORD_VERIFIER", issueTokens=False)
    elif last and last["challengeName"] == "PASSWORD_VERIFIER" and not last["challengeResult"]:
        response.update(issueTokens=False, failAuthentication=True)
    elif last and last["challengeName"] == "CUSTOM_CHALLENGE" and last["challengeResult"]:
        response.update(issueTokens=True, failAuthentication=False)
    elif len(tries) >= MAX_CODE_TRIES:
        response.update(issueTokens=False, failAuthentication=True)
    else:
        response.update(
            challengeName="CUSTOM_CHALLENGE", issueTokens=False, failAuthentication=False
        )
    return event


def create_email_code(event: dict[str, Any], context: TriggerContext) -> dict[str, Any]:
    """CreateAuthChallenge: email a new code on the first try, keep it for the retries.

    A code goes only to a verified address (`email_verified`) of an account without MFA: an
    unverified address may be anybody's, and a code alone must not pass a second factor. With no
    such address, an account with MFA, or no such user (`userNotFound`), nothing is sent and the
    caller gets the same challenge, which no answer passes, so the answer never tells who exists
    or which accounts have MFA.
    """
    request = event["request"]
    attributes = request["userAttributes"]
    email = attributes.get("email", "")
    deliverable = (
        not request.get("userNotFound")
        and not context.mfa_factors
        and bool(email)
        and attributes.get("email_verified") == "true"
    )
    if request.get("userNotFound"):
        typed = event["userName"]
        email = typed if "@" in typed else f"{typed[:1] or 'u'}@e"  # as a real user's mask looks
    earlier = [
        entry["challengeMetadata"]
        for entry in request["session"]
        if entry["challengeName"] == "CUSTOM_CHALLENGE" and entry.get("challengeMetadata")
    ]
    if earlier:
        code = earlier[-1].removeprefix("CODE-")
    elif not deliverable:
        code = ""  # nothing sent: verify_email_code accepts no answer to an empty code
    else:
        code = codes.new_code()
        context.inbox.send(
            to=email,
            kind="custom_challenge",
            subject="Your sign-in code",
            body=f"Your one-time sign-in code is {code}",
            code=code,
        )
    event["response"].update(
        publicChallengeParameters={
            "email": codes.mask(email),
            "challenge": "EMAIL_CODE",
        },
        privateChallengeParameters={"answer": code},
        challengeMetadata=f"CODE-{code}",
    )
    return event


def verify_email_code(event: dict[str, Any], context: TriggerContext) -> dict[str, Any]:
    """VerifyAuthChallengeResponse: the answer is the code that was sent."""
    request = event["request"]
    expected = request["privateChallengeParameters"].get("answer", "")
    event["response"]["answerCorrect"] = bool(expected) and (
        str(request.get("challengeAnswer", "")).strip() == expected
    )
    return event
