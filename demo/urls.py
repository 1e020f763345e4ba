from __future__ import annotations

from django.urls import path

from demo import views

app_name = "demo"
urlpatterns = [
    path("", views.panel, name="panel"),
    path("reset/", views.reset, name="reset"),
]
