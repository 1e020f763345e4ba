from __future__ import annotations

from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    # Managed login
    path("login/", views.login, name="login"),
    path("callback/", views.callback, name="callback"),
    path("login/failed/", views.login_failed, name="login_failed"),
    path("logout/", views.logout, name="logout"),
]
