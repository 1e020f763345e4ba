from __future__ import annotations

from django.urls import path

from signin import views
from signin.forms import STEP_FORMS

app_name = "signin"
urlpatterns = [
    path("signin/", views.signin, name="signin"),
    path("signin/code/", views.code, name="code"),
    # One URL per challenge step, named as the step (signin.services.STEPS).
    *(path(form.route, views.step, {"step": name}, name=name) for name, form in STEP_FORMS.items()),
]
