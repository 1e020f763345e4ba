from __future__ import annotations

from django.urls import path, register_converter

from api import views


class NoteIdConverter:
    """At most 18 digits: any id the database holds, none that would overflow its integer."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(NoteIdConverter, "note_id")

app_name = "api"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("me", views.me, name="me"),
    path("notes/", views.notes, name="notes"),
    path("notes/<note_id:note_id>", views.note, name="note"),
    # Anything else under /api/ is a JSON 404, never the site's HTML page.
    path("<path:rest>", views.not_found, name="not_found"),
]
