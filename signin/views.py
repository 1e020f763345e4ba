"""API sign-in: the app's own form, then each challenge the pool asks for as a step of its own.

Views speak of steps (signin.services.STEPS names them); one view serves every step, with the
step's form (signin.forms.STEP_FORMS) and template (signin/<step>.html).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import NoReverseMatch, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts.session import FLOW_API, sign_user_in
from accounts.tokens import Tokens
from signin import devices
from signin.forms import STEP_FORMS, ChallengeForm, CodeSigninForm, SigninForm, UserPoolForm
from signin.services import Challenge, UserPoolError
from signin.session import (
    CONFIRMING_USERNAME,
    RESETTING_USERNAME,
    SigninAttempt,
    signin_attempt_get,
    signin_attempt_pop,
    signin_attempt_save,
)

logger = logging.getLogger("accounts")

_ATTEMPT_ENDED = {
    True: "This sign-in took too long. Please sign in again.",
    False: "This account needs a sign-in step this site cannot do.",
}
# Where a sign-in goes when the pool wants the account confirmed or its password reset first:
# self-service's pages, when that app is installed; else the message stays on the form.
_ACCOUNT_STEPS = {
    "user_not_confirmed": (CONFIRMING_USERNAME, "selfservice:signup_confirm"),
    "password_reset_required": (RESETTING_USERNAME, "selfservice:password_forgot"),
    "password_compromised": (RESETTING_USERNAME, "selfservice:password_forgot"),
}


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def signin(request: HttpRequest) -> HttpResponse:
    """Sign in with username and password on this site's own form (InitiateAuth)."""
    form = SigninForm(
        request.POST or None,
        request=request,
        initial={"next": request.GET.get("next", ""), "username": request.GET.get("username", "")},
    )
    if request.method != "POST" or not form.is_valid():
        if form.is_bound:
            logger.warning("event=signin_failed flow=api reason=%s", form.failure_code)
        if form.failure_code in _ACCOUNT_STEPS and (to := _account_step(request, form)):
            return to
        code_form = CodeSigninForm(request=request)
        return form_page(request, "signin/signin.html", form, code_form=code_form)
    signin_attempt_pop(request.session)  # a new sign-in replaces one left unfinished
    return signin_continue(request, form.result, next_url=form.next_url)


@require_POST
@csrf_protect
@never_cache
def code(request: HttpRequest) -> HttpResponse:
    """Sign in without a password (USER_AUTH): an emailed or texted code, a passkey, a choice."""
    form = CodeSigninForm(request.POST, request=request)
    if not form.is_valid():
        logger.warning("event=signin_failed flow=api_code reason=%s", form.failure_code)
        context = {"form": SigninForm(request=request), "code_form": form}
        return render(request, "signin/signin.html", context, status=form.failure_status)
    signin_attempt_pop(request.session)
    return signin_continue(request, form.result, next_url=resolve_url(settings.LOGIN_REDIRECT_URL))


@sensitive_post_parameters()  # every step's answer is a secret: a code, a password
@csrf_protect
@never_cache
def step(request: HttpRequest, *, step: str) -> HttpResponse:
    """One step of the sign-in in progress, and only while it is fresh and is at this step."""
    attempt = signin_attempt_get(request.session)
    if attempt is None or attempt.expired or not attempt.challenge.step:
        # No sign-in, a stale one, or a challenge with no step here: start again.
        signin_attempt_pop(request.session)
        if attempt is not None:
            messages.error(request, _ATTEMPT_ENDED[attempt.expired])
        return redirect("signin:signin")
    if attempt.challenge.step != step:
        return redirect(f"signin:{attempt.challenge.step}")
    form_class = STEP_FORMS[step]
    try:
        attempt = form_class.prepare(attempt, session=request.session)
    except UserPoolError as failure:
        logger.warning("event=challenge_failed step=%s reason=%s", step, failure.code)
        signin_attempt_pop(request.session)
        messages.error(request, form_class.message(failure.code))
        return redirect("signin:signin")
    form = form_class(request.POST or None, attempt=attempt, request=request)
    if request.method == "POST" and form.is_valid():
        response = signin_continue(request, form.result, attempt=attempt)
        if getattr(form, "browser_id", ""):  # a device remembered: this browser keeps its id
            devices.browser_cookie_set(response, request, form.browser_id)
        return response
    return _step_page(request, form, attempt=attempt)


def signin_continue(
    request: HttpRequest,
    result: Tokens | Challenge,
    *,
    attempt: SigninAttempt | None = None,
    next_url: str = "",
) -> HttpResponse:
    """Tokens: sign in and go on. A challenge: keep it for this attempt and show its step.

    Also how a sign-up confirmed in the same browser goes on (selfservice.views).
    """
    next_url = attempt.next_url if attempt else next_url
    if isinstance(result, Tokens):
        signin_attempt_pop(request.session)
        sign_user_in(request, result, flow=FLOW_API)
        devices.refresh_bind(result)
        return redirect(next_url)
    signin_attempt_save(
        request.session, result, next_url=next_url, attempt_id=attempt.id if attempt else None
    )
    return redirect(f"signin:{result.step}")


def _step_page(
    request: HttpRequest, form: ChallengeForm, *, attempt: SigninAttempt
) -> HttpResponse:
    """The step's page; a failure that ends the attempt (stale, expired) restarts the sign-in."""
    if form.is_bound and form.errors:
        logger.warning("event=challenge_failed step=%s reason=%s", form.step, form.failure_code)
        if form.restart:
            signin_attempt_pop(request.session)
            messages.error(request, form.non_field_errors()[0])
            return redirect("signin:signin")
    context = {
        "challenge": attempt.challenge,
        "step_seconds": settings.COGNITO_AUTH_SESSION_SECONDS,
        **form.context(),
    }
    return form_page(request, f"signin/{form.step}.html", form, **context)


def _account_step(request: HttpRequest, form: SigninForm) -> HttpResponse | None:
    """Cognito wants the account confirmed or its password reset first: go to that step."""
    key, url_name = _ACCOUNT_STEPS[form.failure_code]
    try:
        url = reverse(url_name)
    except NoReverseMatch:  # no self-service here: the form says what the account needs
        return None
    request.session[key] = form.cleaned_data["username"]
    messages.info(request, form.non_field_errors()[0])
    return redirect(url)


def form_page(
    request: HttpRequest, template: str, form: UserPoolForm, **context: Any
) -> HttpResponse:
    """The form's page; a bound form with errors answers with its failure's status."""
    if form.is_bound and form.errors and form.failure_code == "unexpected":
        return error_page(request, form.non_field_errors()[0], form.failure_status)
    status = form.failure_status if form.is_bound and form.errors else 200
    return render(request, template, {"form": form, **context}, status=status)


def error_page(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, "signin/error.html", {"message": message}, status=status)
