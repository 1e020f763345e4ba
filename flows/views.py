"""What the site just did: the last flows of this session, step by step, and the tokens' claims."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from itertools import groupby
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.session import StoredTokens, tokens_get
from accounts.tokens import TokenInvalid, token_validator
from flows.steps import FLOWS
from flows.trace import trace_of
from identity.forms import role_name
from identity.services import FLOW_LABELS_SHORT
from identity.session import credentials_cached

# Claims that are times (seconds since the epoch), shown as local times.
TIME_CLAIMS = ("exp", "iat", "auth_time", "nbf")
# Checked at sign-in and of no use to a reader; the nonce was this login's single-use secret.
WITHHELD_CLAIMS = ("nonce",)


@never_cache
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """This session's last flows, newest first, each beside the source text's numbered steps."""
    flows = [_flow(flow) for flow in reversed(trace_of(request.session))]
    return render(request, "flows/index.html", {"flows": flows})


@never_cache
@require_GET
@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    """The current ID and access tokens' claims and the identity credentials' metadata."""
    stored = tokens_get(request.session)
    claims = _verified_claims(stored) if stored else []
    context = {
        "tokens": claims or [],
        "invalid": claims is None,
        "credentials": _credentials_shown(request),
    }
    return render(request, "flows/tokens.html", context)


def _verified_claims(stored: StoredTokens) -> list[tuple[str, list[dict[str, Any]]]] | None:
    """Each token's claims, verified (never merely decoded); None when they do not verify."""
    validator = token_validator()
    try:
        id_claims = validator.validate_id_token(stored.id_token)
        access_claims = validator.validate_access_token(stored.access_token)
    except TokenInvalid:
        return None
    return [("ID token", _claims(id_claims)), ("Access token", _claims(access_claims))]


def _credentials_shown(request: HttpRequest) -> dict[str, Any] | None:
    """What may be shown of this session's identity credentials: never the keys."""
    credentials = credentials_cached(request)
    if credentials is None:
        return None
    return {
        "identity_id": credentials.identity_id,
        "role": role_name(credentials.role_arn),
        "role_arn": credentials.role_arn,
        "how": FLOW_LABELS_SHORT.get(credentials.flow, credentials.flow),
        "expires": _when(credentials.expires_at),
    }


def _flow(flow: dict[str, Any]) -> dict[str, Any]:
    title, source, intro = FLOWS[flow["kind"]]
    guest = any(
        step["event"] == "get_id"
        and not any(name.startswith("Logins") for name in step.get("params", {}))
        for step in flow["steps"]
    )
    done = {n: list(did) for n, did in groupby(flow["steps"], key=lambda step: step["n"])}
    # Steps between the first and the last the site took part in happened elsewhere (in the
    # browser, at the pool or the IdP): listed too, so the flow reads whole.
    numbers = range(min(done, default=1), max(done, default=0) + 1)
    steps = [{"n": n, "source": source[n - 1], "did": done.get(n, [])} for n in numbers]
    return {
        "title": f"{title} (guest)" if guest else title,
        "intro": intro,
        "at": _when(flow["at"]),
        "steps": steps,
        "open": flow.get("open", False),
    }


def _claims(claims: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for name, value in sorted(claims.items()):
        row: dict[str, Any] = {"name": name, "value": value}
        if name in WITHHELD_CLAIMS:
            row["value"] = "(checked at sign-in, not shown)"
        elif name in TIME_CLAIMS and isinstance(value, int | float):
            row["time"] = _when(value)
        elif not isinstance(value, str):
            row["value"] = json.dumps(value)
        rows.append(row)
    return rows


def _when(timestamp: float) -> dict[str, Any]:
    """A time as the site's local time, and how many minutes from now (negative: ago)."""
    local = timezone.localtime(datetime.fromtimestamp(timestamp, tz=UTC))
    return {
        "local": local,
        "iso": local.isoformat(),
        "minutes": round((timestamp - time.time()) / 60),
    }
