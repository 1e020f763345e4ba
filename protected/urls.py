from __future__ import annotations

from django.urls import path

from protected import views

app_name = "protected"
urlpatterns = [
    path("", views.objects, name="objects"),
    path("open/<str:folder>/<path:name>", views.object_open, name="open"),
    path("download/<str:folder>/<path:name>", views.object_download, name="download"),
    path("delete/<str:folder>/<path:name>", views.delete, name="delete"),
    path("upload/", views.upload, name="upload"),
]
