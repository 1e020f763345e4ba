"""Preconditions of the pages that use identity credentials."""

from __future__ import annotations

import functools
from collections.abc import Callable
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from identity.session import owner_of


def identity_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in or a guest; anybody else is sent to sign in, and comes back here afterwards."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if owner_of(request) is None:
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('accounts:login')}?{query}")
        return view(request, *args, **kwargs)

    return wrapper
