from __future__ import annotations

from django.urls import path

from flows import views

app_name = "flows"
urlpatterns = [
    path("flows/", views.index, name="index"),
    # Under accounts/ because the tokens belong to the account; served by this demo app.
    path("accounts/tokens/", views.tokens, name="tokens"),
]
