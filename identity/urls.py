from __future__ import annotations

from django.urls import path

from identity import views

app_name = "identity"
urlpatterns = [
    path("", views.status, name="status"),
    path("guest/", views.guest, name="guest"),
]
