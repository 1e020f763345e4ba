from __future__ import annotations

from django.urls import path

from protected import views

app_name = "protected"
urlpatterns = [
    path("", views.objects, name="objects"),
    path("open/<str:folder>/<path:name>", views.object_open, name="open"),
    path("upload/", views.upload, name="upload"),
]
