from __future__ import annotations

from django.urls import path, re_path

from api import views

app_name = "api"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("me", views.me, name="me"),
    path("notes/", views.notes, name="notes"),
    # At most 18 digits: any id the database can hold, none that would overflow it.
    re_path(r"^notes/(?P<note_id>[0-9]{1,18})$", views.note, name="note"),
    re_path(r"^.*$", views.not_found, name="not_found"),
]
