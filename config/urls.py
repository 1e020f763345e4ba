from __future__ import annotations

from django.urls import include, path

from config import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("favicon.ico", views.favicon, name="favicon"),
    # Before accounts/: it serves /accounts/tokens/ as well as /flows/.
    path("", include("flows.urls")),
    # Managed login, API sign-in and self-service share the /accounts/ prefix of the contract.
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("signin.urls")),
    path("accounts/", include("selfservice.urls")),
    path("federation/", include("federation.urls")),
    path("identity/", include("identity.urls")),
    path("protected/", include("protected.urls")),
    path("api/", include("api.urls")),
    # The demo panel: a 404 unless DEMO_PANEL_URL points at the emulator.
    path("demo/", include("demo.urls")),
]
