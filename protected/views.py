"""The protected page: S3 read and written with the identity's temporary credentials."""

from __future__ import annotations

import functools
import logging
import mimetypes
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import quote

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from identity.decorators import identity_required
from identity.forms import role_name
from identity.services import IdentityCredentials, IdentityError
from identity.session import GUEST_OWNER, credentials_cached, credentials_for_request, owner_of
from protected.forms import (
    FOLDERS,
    MAX_UPLOAD_BYTES,
    ObjectForm,
    UploadForm,
    folder_named,
    folder_prefix,
)
from protected.services import (
    ObjectContent,
    StorageError,
    object_delete,
    object_get,
    object_put,
    objects_list,
)

logger = logging.getLogger("protected")
T = TypeVar("T")
# Served inline (with `nosniff` and a sandbox CSP); any other type is a download.
INLINE_TYPES = {"image/png", "image/jpeg", "image/gif"}
# Shown inside the site's page when the bytes are UTF-8; the page shows at most TEXT_SHOWN_BYTES.
TEXT_TYPES = {"application/json", "application/xml"}
TEXT_SHOWN_BYTES = 100 * 1024
# A file's own bytes, whatever they hold, run no script on this site. django-csp leaves a
# response's own header alone, so this one replaces the site's policy on raw content only.
RAW_CONTENT_POLICY = "default-src 'none'; img-src 'self'; sandbox"


def storage_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """S3's refusals as pages: AccessDenied is a 403 saying the role does not allow it."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except StorageError as error:
            logger.info("event=storage_refused reason=%s", error.code)
            cached = credentials_cached(request)
            context = {"code": error.code, "role": role_name(cached.role_arn) if cached else ""}
            template = "protected/denied.html" if error.status == 403 else "protected/error.html"
            return render(request, template, context, status=error.status)
        except IdentityError as error:
            logger.warning("event=identity_failed reason=%s", error.code)
            return render(request, "identity/error.html", {"code": error.code}, status=error.status)

    return wrapper


def with_credentials(request: HttpRequest, call: Callable[[IdentityCredentials], T]) -> T:
    """Run `call` with this session's credentials; credentials S3 calls expired are renewed once."""
    credentials = credentials_for_request(request)
    try:
        return call(credentials)
    except StorageError as error:
        if error.code != "credentials_expired":
            raise
    logger.info("event=credentials_renewed reason=expired_at_s3")
    return call(credentials_for_request(request, renew=True))


@never_cache
@require_GET
@identity_required
@storage_errors
def objects(request: HttpRequest) -> HttpResponse:
    """One folder's objects: `public/`, `protected/` or the identity's own `private/<id>/`."""
    guest = owner_of(request) == GUEST_OWNER
    folder = folder_named(request.GET.get("folder"), "public" if guest else "private")
    credentials, items = with_credentials(
        request,
        lambda c: (
            c,
            objects_list(credentials=c.credentials, prefix=folder_prefix(folder, c.identity_id)),
        ),
    )
    # One reverse() per page, not one per object: a folder may list a thousand.
    open_prefix = reverse("protected:open", args=[folder, "_"]).removesuffix("_")
    delete_prefix = reverse("protected:delete", args=[folder, "_"]).removesuffix("_")
    context = {
        "folder": folder,
        "folders": FOLDERS,
        "prefix": folder_prefix(folder, credentials.identity_id),
        "items": [
            (item, open_prefix + quote(item.name, safe="/:"), delete_prefix + quote(item.name))
            for item in items
        ],
        "guest": guest,
        "own_folder": folder == "private" and not guest,  # the one a user uploads to and deletes in
        "role": role_name(credentials.role_arn),
        "limit_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
    }
    return render(request, "protected/objects.html", context)


@never_cache
@require_GET
@identity_required
@storage_errors
def object_open(request: HttpRequest, folder: str, name: str) -> HttpResponse:
    """A text file shown in the site's page; any other file as its own bytes."""
    form = ObjectForm({"folder": folder, "name": name})
    if not form.is_valid():
        return _not_found(request)
    content = with_credentials(
        request, lambda c: object_get(credentials=c.credentials, key=form.key_for(c.identity_id))
    )
    text = _text_of(content)
    if text is None:
        return _object_response(content, as_attachment=False)
    context = {
        "folder": folder,
        "name": name,
        "file_name": content.name,
        "size": len(content.body),
        "text": text[:TEXT_SHOWN_BYTES].decode(errors="ignore"),  # a cut character is dropped
        "truncated": len(text) > TEXT_SHOWN_BYTES,
        "shown_kb": TEXT_SHOWN_BYTES // 1024,
    }
    return render(request, "protected/text.html", context)


@never_cache
@require_GET
@identity_required
@storage_errors
def object_download(request: HttpRequest, folder: str, name: str) -> HttpResponse:
    """An object's bytes as a download, whatever its type."""
    form = ObjectForm({"folder": folder, "name": name})
    if not form.is_valid():
        return _not_found(request)
    content = with_credentials(
        request, lambda c: object_get(credentials=c.credentials, key=form.key_for(c.identity_id))
    )
    return _object_response(content, as_attachment=True)


@never_cache
@require_http_methods(["GET", "POST"])
@identity_required
@storage_errors
def delete(request: HttpRequest, folder: str, name: str) -> HttpResponse:
    """GET asks to confirm; POST deletes with the identity's credentials, so IAM decides."""
    form = ObjectForm({"folder": folder, "name": name})
    if not form.is_valid():
        return _not_found(request)
    if request.method != "POST":
        return render(request, "protected/delete.html", {"folder": folder, "name": name})
    with_credentials(
        request, lambda c: object_delete(credentials=c.credentials, key=form.key_for(c.identity_id))
    )
    messages.success(request, f"Deleted {name}.")
    return redirect(f"{reverse('protected:objects')}?folder={folder}")


def uploader_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Only a signed-in user uploads: a guest or a stranger is refused before the body is read."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        owner = owner_of(request)
        if owner is None or owner == GUEST_OWNER:
            logger.info("event=upload_refused reason=%s", "guest" if owner else "signed_out")
            return render(request, "protected/upload_refused.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


# The CSRF middleware would parse the multipart body before any check; csrf_protect below runs
# the same check once the uploader is known, so a stranger's body is never parsed.
@csrf_exempt
@never_cache
@require_POST
@uploader_required
@csrf_protect
@storage_errors
def upload(request: HttpRequest) -> HttpResponse:
    """Store a file in the identity's own private folder."""
    form = UploadForm(request.POST, request.FILES)
    back = f"{reverse('protected:objects')}?folder=private"
    if not form.is_valid():
        messages.error(request, next(iter(form.errors.values()))[0])
        return redirect(back)
    upload = form.cleaned_data["file"]
    body = upload.read()
    with_credentials(
        request,
        lambda c: object_put(
            credentials=c.credentials,
            key=form.key_for(c.identity_id),
            body=body,
            content_type=mimetypes.guess_type(upload.name)[0] or "application/octet-stream",
        ),
    )
    messages.success(request, f"Uploaded {upload.name}.")
    return redirect(back)


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "protected/error.html", {"code": "not_found"}, status=404)


def _text_of(content: ObjectContent) -> bytes | None:
    """The object's bytes when it is a text file in UTF-8, else None."""
    guessed = mimetypes.guess_type(content.name)[0] or ""
    if not (guessed.startswith("text/") or guessed in TEXT_TYPES):
        return None
    try:
        content.body.decode()
    except UnicodeDecodeError:
        return None
    return content.body


def _object_response(content: ObjectContent, *, as_attachment: bool) -> HttpResponse:
    guessed = mimetypes.guess_type(content.name)[0]
    inline = not as_attachment and guessed in INLINE_TYPES
    response = HttpResponse(
        content.body, content_type=guessed if inline else "application/octet-stream"
    )
    response["Content-Disposition"] = content_disposition_header(not inline, content.name)
    response["Content-Security-Policy"] = RAW_CONTENT_POLICY
    response["X-Content-Type-Options"] = "nosniff"
    return response
