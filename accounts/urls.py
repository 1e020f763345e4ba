from __future__ import annotations

from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    # Managed login
    path("login/", views.login, name="login"),
    path("callback/", views.callback, name="callback"),
    path("logout/", views.logout, name="logout"),
    # API sign-in and its challenge steps
    path("signin/", views.signin, name="signin"),
    path("signin/code/", views.signin_code, name="signin_code"),
    path("signin/mfa/", views.signin_mfa, name="signin_mfa"),
    path("signin/mfa/select/", views.signin_select_mfa, name="signin_select_mfa"),
    path("signin/mfa/setup/", views.signin_mfa_setup, name="signin_mfa_setup"),
    path("signin/new-password/", views.signin_new_password, name="signin_new_password"),
    path("signin/challenge/", views.signin_custom, name="signin_custom"),
    # Self-service
    path("signup/", views.signup, name="signup"),
    path("signup/confirm/", views.signup_confirm, name="signup_confirm"),
    path("signup/resend/", views.signup_resend, name="signup_resend"),
    path("password/forgot/", views.password_forgot, name="password_forgot"),
    path("password/reset/", views.password_reset, name="password_reset"),
    path("password/change/", views.password_change, name="password_change"),
    path("reauthenticate/", views.reauthenticate, name="reauthenticate"),
    path("profile/", views.profile, name="profile"),
    path("profile/verify/", views.profile_verify, name="profile_verify"),
    path("mfa/", views.mfa, name="mfa"),
    path("mfa/totp/", views.mfa_totp, name="mfa_totp"),
    path("signout/everywhere/", views.signout_everywhere, name="signout_everywhere"),
]
