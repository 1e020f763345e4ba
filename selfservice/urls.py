from __future__ import annotations

from django.urls import path

from selfservice import views

app_name = "selfservice"
urlpatterns = [
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
    path("activity/", views.activity, name="activity"),
    path("passkeys/", views.passkeys, name="passkeys"),
    path("passkeys/add/", views.passkey_add, name="passkey_add"),
    path("passkeys/remove/", views.passkey_remove, name="passkey_remove"),
    path("devices/", views.devices, name="devices"),
    path("devices/forget/", views.device_forget, name="device_forget"),
    path("signout/everywhere/", views.signout_everywhere, name="signout_everywhere"),
]
