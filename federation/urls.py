from __future__ import annotations

from django.urls import path

from federation import views

app_name = "federation"
urlpatterns = [
    path("", views.chooser, name="chooser"),
]
