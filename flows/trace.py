"""What the site did in this browser's last flows, step by step, numbered as the source text does.

`TraceMiddleware` names the flow from the view's URL name (`VIEWS`): a sign-in start, a step that
continues the sign-in in progress (callback, challenge steps), an identity or protected page. While
the view runs a contextvar holds the request's recording, and three hooks add to it, registered by
this app's AppConfig.ready() so that no flow depends on this one: botocore events on every client
config/aws.py builds (`aws.CLIENT_HOOKS`), a requests hook on managed login's HTTP session
(`accounts.services.http_session`), and the validator's `token_verified` signal once a token
passes. Each event names its step (`STEPS`); one that belongs to another flow (a token refresh
during a page view) starts a flow of its own. When the view returns, the steps are numbered and
kept, the last `MAX_FLOWS` flows, in the cache under an id the session holds (`TRACE_ID`): a
protected read then costs a cache write, not a session save (a database write) on every page view;
with several processes the cache is shared (`CACHE_URL`), as it must be for the rate limits.
Parameter names are kept; values only for the names in `SHOWN`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

TRACE_ID = "flows.trace_id"
MAX_FLOWS = 5
MAX_STEPS = 40
REDACTED = "(redacted)"
# Values that are neither secret nor replayable; every other value is shown as REDACTED.
# fmt: off
SHOWN = frozenset({
    "client_id", "ClientId", "redirect_uri", "scope", "response_type", "grant_type", "idp",
    "identity_provider",
    "code_challenge_method", "AuthFlow", "ChallengeName", "IdentityPoolId", "IdentityId",
    "RoleArn", "CustomRoleArn", "RoleSessionName", "Bucket", "Prefix", "Key", "Expiration",
    "ExpiresIn", "TokenType", "token_type", "expires_in",
})
# fmt: on


def _numbered(events: str) -> dict[str, int]:
    return {event: int(n) for event, n in (pair.split("=") for pair in events.split())}


_ID = "check=8 get_id=9 identity_id=11 get_credentials=12 open_id_token=13 assume_role=14 "
_ID += "credentials=14 caller=14 "
# Each event's step number in its flow, as cognito-auth-flows.txt numbers that flow's steps.
STEPS = {
    "managed": _numbered(
        "start=2 authorize=3 callback=9 token_request=10 tokens=11 check=12 done=13"
    ),
    "federated": _numbered(
        "start=2 authorize=3 callback=10 token_request=11 tokens=12 check=13 done=14"
    ),
    "api": _numbered(
        "start=3 initiate=4 challenge=6 prompt=7 respond=8 tokens=10 check=11 done=12"
    ),
    "refresh_managed": _numbered("token_request=16 tokens=16 check=16"),
    "refresh_api": _numbered("refresh=15 tokens=15 check=15"),
    "identity": _numbered(_ID + "done=15"),
    "protected": _numbered(_ID + "start=16 aws_request=17 denied=18 aws_answer=19 done=20"),
}
# The flow each view belongs to (by URL name), and whether it continues the one in progress.
VIEWS = {"accounts:login": ("managed", False), "accounts:callback": ("managed", True)}
VIEWS |= {f"signin:{name}": ("api", False) for name in ("signin", "code")}
VIEWS |= {"selfservice:signup_confirm": ("api", False)}  # it may sign the new user in
VIEWS |= {"federation:chooser": ("federated", False), "identity:status": ("identity", False)}
VIEWS |= {"identity:guest": ("identity", False)}
VIEWS |= {f"protected:{name}": ("protected", False) for name in ("objects", "open", "upload")}
# Every other view of these namespaces continues the flow in progress (a challenge step).
NAMESPACES = {"signin": ("api", True)}
_AWS_EVENTS = {"GetId": "get_id", "GetCredentialsForIdentity": "get_credentials"}
_AWS_EVENTS |= {"GetOpenIdToken": "open_id_token", "GetOpenIdTokenForDeveloperIdentity": "get_id"}
_AWS_EVENTS |= {"AssumeRoleWithWebIdentity": "assume_role", "GetCallerIdentity": "caller"}
_ANSWERS = {"get_id": "identity_id", "get_credentials": "credentials", "aws_request": "aws_answer"}


def _family(kind: str) -> str:
    return "managed" if kind == "federated" else kind


class _Recording:
    def __init__(self, kind: str | None, continues: bool) -> None:
        self.kind, self.continues = kind, continues
        self.flows: list[dict[str, Any]] = []

    def flow(self, kind: str | None) -> dict[str, Any] | None:
        if kind is None and self.flows:
            return self.flows[-1]
        for flow in reversed(self.flows):
            if _family(flow["kind"]) == _family(kind or ""):
                return flow
        if (kind or self.kind) is None:
            return None
        self.flows.append({"kind": kind or self.kind, "at": time.time(), "steps": []})
        return self.flows[-1]


_recording: ContextVar[_Recording | None] = ContextVar("accounts_trace", default=None)


def step(event: str, *, kind: str | None = None, **detail: Any) -> None:
    """Record a step of this request's flow (of a flow of `kind`, when the event names one)."""
    recording = _recording.get()
    flow = recording.flow(kind) if recording else None
    if flow is not None and len(flow["steps"]) < MAX_STEPS:
        flow["steps"].append({"event": event} | {k: v for k, v in detail.items() if v is not None})


def shown(params: dict[str, Any]) -> dict[str, str]:
    """Parameter names with their value when allow-listed (nested names flattened one level)."""
    safe: dict[str, str] = {}
    for name, value in params.items():
        if isinstance(value, dict) and name != "ResponseMetadata":
            safe |= {f"{name}.{key}": _value(key, inner) for key, inner in value.items()}
        elif name != "ResponseMetadata":
            safe[name] = _value(name, value)
    return safe


def _value(name: str, value: Any) -> str:
    if isinstance(value, list):
        return f"({len(value)} items)"
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return text[:120] if name in SHOWN else REDACTED


def checks_passed(token: str, claims: dict[str, Any], **extra: object) -> None:
    """The checks a token ("id" or "access") just passed; `extra`: optional checks, run if set."""
    audience = "aud" if token == "id" else "client_id"
    checks = ["signature: RS256, kid in the issuer's JWKS", f"iss = {claims.get('iss')}"]
    checks += [f"{audience} = this app client", f"token_use = {claims.get('token_use')}"]
    checks += ["exp and iat: numbers, not expired"] + [name for name, ran in extra.items() if ran]
    recording = _recording.get()
    flow = recording.flows[-1] if recording and recording.flows else {}
    if claims.get("identities") and flow.get("kind") == "managed":
        flow["kind"] = "federated"  # an IdP chosen on the managed login pages
    step("check", what=f"{token} token verified", checks=checks)


def token_verified(sender: Any, *, token: str, claims: dict[str, Any], **extra: Any) -> None:
    """The validator's `token_verified` signal: its checks become a step."""
    extra.pop("signal", None)
    checks_passed(token, claims, **extra)


def hooks_register() -> None:
    """Observe the foundation's token checks and requests, and every boto3 client's calls."""
    from accounts import services, tokens
    from config import aws

    tokens.token_verified.connect(token_verified, dispatch_uid="flows.trace")
    if http_response not in services.http_session.hooks["response"]:
        services.http_session.hooks["response"].append(http_response)
    if aws_hooks_register not in aws.CLIENT_HOOKS:
        aws.CLIENT_HOOKS.append(aws_hooks_register)


def aws_hooks_register(events: Any) -> None:
    """Record every call of a boto3 client: config/aws.py passes each new `client.meta.events`."""
    events.register("before-parameter-build", _aws_before, unique_id="trace-before")
    events.register("after-call", _aws_after, unique_id="trace-after")
    events.register("after-call-error", _aws_after, unique_id="trace-error")


def _aws_before(params: dict[str, Any], model: Any, context: dict[str, Any], **kwargs: Any) -> None:
    if _recording.get() is not None:
        # after-call-error names no operation: keep it here, with the start time.
        service = model.service_model.service_name
        context["trace"] = (time.perf_counter(), shown(params), service, model.name)


def _aws_after(context: dict[str, Any], parsed: Any = None, **kwargs: Any) -> None:
    if "trace" not in context:
        return
    started, params, service, operation = context.pop("trace")
    response = kwargs.get("http_response")
    status = response.status_code if response is not None else None
    event, kind = _aws_event(service, operation, params)
    if event is None:
        return  # a call that is no step of a flow (the IdP list, the profile page)
    what = f"{service} {operation}"
    ms = round((time.perf_counter() - started) * 1000)
    step(event, kind=kind, what=what, params=params, status=status, ms=ms)
    answer = parsed if isinstance(parsed, dict) else {}
    if status is None or status >= 300:
        error = answer.get("Error", {}).get("Code") or type(kwargs.get("exception")).__name__
        step("denied" if kind == "protected" else event, kind=kind, what="error", error=error)
    else:
        step(_answer_event(event, answer), kind=kind, what="answer", params=shown(answer))


def _answer_event(event: str, answer: dict[str, Any]) -> str:
    if answer.get("ChallengeName") == "PASSWORD_VERIFIER":
        return event  # SRP's first answer: the password proof (step 4) is not finished yet
    if "ChallengeName" in answer:
        return "challenge"
    return "tokens" if "AuthenticationResult" in answer else _ANSWERS.get(event, event)


def _aws_event(service: str, operation: str, params: dict[str, str]) -> tuple[str | None, str]:
    if service == "s3":
        return "aws_request", "protected"
    if service != "cognito-idp":
        return _AWS_EVENTS.get(operation), "identity"
    if operation == "GetTokensFromRefreshToken" or params.get("AuthFlow") == "REFRESH_TOKEN_AUTH":
        return "refresh", "refresh_api"
    if "InitiateAuth" in operation or params.get("ChallengeName") == "PASSWORD_VERIFIER":
        return "initiate", "api"  # SRP's second message still proves the password: step 4
    if operation == "ConfirmSignUp":
        return None, "api"  # its Session only carries the sign-up on to InitiateAuth
    # Challenge answers, and MFA_SETUP's authenticator calls (with a Session, not a token).
    return ("respond" if "Session" in params or "Challenge" in operation else None), "api"


def http_response(response: Any, *args: Any, **kwargs: Any) -> None:
    """A requests response hook for managed login's token requests (accounts/services.py)."""
    request = response.request
    if not urlsplit(request.url).path.endswith("/oauth2/token"):
        return  # revocation belongs to signing out, which the source text has no flow for
    body = request.body if isinstance(request.body, str) else (request.body or b"").decode()
    form = dict(parse_qsl(body))
    kind = "refresh_managed" if form.get("grant_type") == "refresh_token" else None
    params = shown(form)
    if "Authorization" in request.headers:
        params["Authorization"] = f"Basic {REDACTED} (client_secret_basic)"
    ms = round(response.elapsed.total_seconds() * 1000)
    what = f"POST {urlsplit(request.url).path}"
    step("token_request", kind=kind, what=what, params=params, status=response.status_code, ms=ms)
    try:
        answer = response.json()
    except ValueError:
        answer = None  # not JSON: the caller refuses it; the trace must not fail before it does
    if response.status_code == 200 and isinstance(answer, dict):
        step("tokens", kind=kind, what="answer", params=shown(answer))


class TraceMiddleware:
    """Records the steps of each request to a flow's view and keeps them in the session."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            view = resolve(request.path_info).view_name
        except Resolver404:
            view = ""
        namespace = view.partition(":")[0] if ":" in view else ""
        kind, continues = VIEWS.get(view) or NAMESPACES.get(namespace, (None, False))
        if view == "accounts:login" and request.GET.get("idp"):
            kind = "federated"  # an IdP button: managed login's redirect with the IdP named
        recording = _Recording(kind, continues)
        reset = _recording.set(recording)
        try:
            _opening_step(request, kind, continues)
            response = self.get_response(request)
            _closing_step(request, response, recording)
        finally:
            _recording.reset(reset)
        if recording.flows:
            _keep(request, recording)
        return response


def _opening_step(request: HttpRequest, kind: str | None, continues: bool) -> None:
    what = f"{request.method} {request.path}"
    if kind == "managed" and continues:
        step("callback", what=what, params=shown(request.GET.dict()))
    elif kind in ("managed", "federated") and request.method == "GET":
        step("start", what=what, params=shown(request.GET.dict()))
    elif kind in ("api", "federated") and request.method == "POST" and not continues:
        fields = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
        step("start", what=what, params=shown(fields))
    elif kind == "api" and request.method == "GET" and continues:
        step("prompt", what=f"{what}: the step's form")
    elif kind == "protected":
        step("start", what=what)


def _closing_step(request: HttpRequest, response: HttpResponse, recording: _Recording) -> None:
    location = urlsplit(response.get("Location", ""))
    status = response.status_code
    checked = any(s["event"] == "check" for flow in recording.flows[-1:] for s in flow["steps"])
    if location.path.endswith("/oauth2/authorize"):
        query = shown(dict(parse_qsl(location.query)))
        step("authorize", what="redirect to the authorize endpoint", params=query, status=status)
    elif recording.kind in ("identity", "protected") and recording.flow(recording.kind):
        what = f"{request.method} {request.path} answered"
        step("done", kind=recording.kind, what=what, status=status)
    elif recording.kind in ("managed", "federated", "api") and checked and status in (302, 303):
        what = f"signed in, tokens kept in the server-side session; sent to {location.path}"
        step("done", what=what, status=status)


def _keep(request: HttpRequest, recording: _Recording) -> None:
    flows = trace_of(request.session)
    for index, flow in enumerate(recording.flows):
        last = flows[-1] if flows else None
        if (
            index == 0
            and recording.continues
            and last
            and last.get("open")
            and _family(last["kind"]) == _family(flow["kind"])
        ):
            flows.pop()
            kind = flow["kind"] if flow["kind"] != recording.kind else last["kind"]
            flow = last | {"kind": kind, "steps": (last["steps"] + flow["steps"])[:MAX_STEPS]}
        elif not any("status" in s or "ms" in s for s in flow["steps"]):
            continue  # nothing was asked of anyone (a form shown, credentials from the cache)
        numbers = STEPS[flow["kind"]]
        flow["steps"] = [
            s | {"n": numbers[s["event"]]} for s in flow["steps"] if s["event"] in numbers
        ]
        done = any(s["event"] == "done" for s in flow["steps"])
        flow["open"] = flow["kind"] in ("managed", "federated", "api") and not done
        flows.append(flow)
    # Set once per session (kept when sign-in cycles the key); later flows write the cache only.
    trace_id = request.session.setdefault(TRACE_ID, secrets.token_urlsafe(16))
    cache.set(_cache_key(trace_id), flows[-MAX_FLOWS:], timeout=settings.SESSION_COOKIE_AGE)


def trace_of(session: SessionBase) -> list[dict[str, Any]]:
    """This session's last flows, oldest first."""
    trace_id = session.get(TRACE_ID)
    return list(cache.get(_cache_key(trace_id)) or []) if trace_id else []


def _cache_key(trace_id: str) -> str:
    return f"flows.trace.{trace_id}"
