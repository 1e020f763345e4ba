"""The notes API (bearer access tokens only) and the page that shows a user the API's answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from accounts.session import tokens_get
from api.decorators import api_error, scope_required
from api.inprocess import api_overview
from api.models import MAX_TEXT_LENGTH, Note

READ = "notes/read"
WRITE = "notes/write"


def api_methods(*methods: str) -> Callable[[Callable[..., HttpResponse]], Any]:
    """A JSON 405 with `Allow` for any other method (Django's own answer has no JSON body)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                allow = ", ".join(methods)
                response = api_error(405, "method_not_allowed", f"Use {allow}.")
                response["Allow"] = allow
                return response
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def _json(data: object, *, status: int = 200) -> JsonResponse:
    response = JsonResponse(data, status=status, safe=False)
    response["Cache-Control"] = "no-store"
    return response


@api_methods("GET")
@scope_required(None)
def me(request: HttpRequest) -> HttpResponse:
    """Who the token stands for, its client, scopes and groups."""
    bearer = request.bearer  # type: ignore[attr-defined]
    return _json(
        {
            "kind": "machine" if bearer.is_machine else "user",
            "sub": bearer.claims["sub"],
            "username": bearer.claims.get("username"),
            "client_id": bearer.client_id,
            "scopes": sorted(bearer.scopes),
            "groups": bearer.groups,
        }
    )


@api_methods("GET", "POST")
def notes(request: HttpRequest) -> HttpResponse:
    """GET: the caller's notes (notes/read). POST `{"text": ...}`: a new note (notes/write)."""
    if request.method == "POST":
        return _note_create(request)
    return _note_list(request)


@scope_required(READ)
def _note_list(request: HttpRequest) -> HttpResponse:
    owner = request.bearer.owner  # type: ignore[attr-defined]
    return _json([note.as_json() for note in Note.objects.filter(owner=owner)])


@scope_required(WRITE)
def _note_create(request: HttpRequest) -> HttpResponse:
    try:
        data = json.loads(request.body)
    except RequestDataTooBig:
        return api_error(413, "invalid_request", "The body is too large.")
    except ValueError:
        return api_error(400, "invalid_request", 'Send JSON: {"text": "..."}.')
    text = data.get("text") if isinstance(data, dict) else None
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT_LENGTH:
        description = f"text must be a non-empty string of at most {MAX_TEXT_LENGTH} characters."
        return api_error(400, "invalid_request", description)
    note = Note.objects.create(owner=request.bearer.owner, text=text.strip())  # type: ignore[attr-defined]
    return _json(note.as_json(), status=201)


@api_methods("GET", "DELETE")
def note(request: HttpRequest, note_id: int) -> HttpResponse:
    """GET: one of the caller's notes (notes/read). DELETE: remove it (notes/write)."""
    if request.method == "DELETE":
        return _note_delete(request, note_id)
    return _note_read(request, note_id)


@scope_required(READ)
def _note_read(request: HttpRequest, note_id: int) -> HttpResponse:
    # Another caller's note is "not found" too: its existence is not the caller's business.
    found = Note.objects.filter(id=note_id, owner=request.bearer.owner).first()  # type: ignore[attr-defined]
    if found is None:
        return not_found(request)
    return _json(found.as_json())


@scope_required(WRITE)
def _note_delete(request: HttpRequest, note_id: int) -> HttpResponse:
    owner = request.bearer.owner  # type: ignore[attr-defined]
    deleted, _ = Note.objects.filter(id=note_id, owner=owner).delete()
    if not deleted:
        return not_found(request)
    return HttpResponse(status=204)


@csrf_exempt
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Any other path under /api/: a JSON 404, not the site's HTML page."""
    return api_error(404, "not_found", "No such resource.")


@never_cache
@api_methods("GET")
@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """The API's answers for the signed-in user's own access token, asked server-side."""
    tokens = tokens_get(request.session)
    calls = api_overview(access_token=tokens.access_token) if tokens else []
    return render(request, "api/overview.html", {"calls": calls})
