"""Request bodies the site accepts: an upload's size is refused before its body is read.

Two limits, both site-wide because Django parses a POST body wherever it goes (the CSRF check
reads the form before any view runs): a request whose Content-Length is over the largest body
the site takes is answered 413 at once, and a file is kept in memory up to the upload limit and
never spooled to disk. A body without a Content-Length (chunked) is read as empty under WSGI;
under ASGI, config/asgi.py cuts it off at the limit.
"""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from typing import Any

from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from protected.forms import MAX_UPLOAD_BYTES

# The largest body: one file at the limit, plus the multipart framing and the CSRF token.
MAX_BODY_BYTES = MAX_UPLOAD_BYTES + 64 * 1024


class BodySizeLimitMiddleware:
    """A body announced larger than MAX_BODY_BYTES is refused with 413, unread."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads an unreadable length as no body at all
        if length > MAX_BODY_BYTES:
            context = {"limit_mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
            return render(request, "protected/too_large.html", context, status=413)
        return self.get_response(request)


class LimitedUploadHandler(FileUploadHandler):
    """Each file in memory, never on disk, keeping at most MAX_UPLOAD_BYTES + 1 of it.

    The file's true size is still reported, so the form refuses it as too large.
    """

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.file = BytesIO()
        raise StopFutureHandlers()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        room = MAX_UPLOAD_BYTES + 1 - self.file.tell()
        if room > 0:
            self.file.write(raw_data[:room])

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        self.file.seek(0)
        return InMemoryUploadedFile(
            file=self.file,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )
