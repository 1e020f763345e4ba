"""Test settings: the production settings module, configured the way `manage.py demo` configures it.

The emulator's port is only known once the `emulator` fixture has started it, so the three
settings that depend on it start as placeholders and that fixture points them at the emulator.
"""

from __future__ import annotations

import os

from emulator import seed

os.environ.update(
    {
        "DJANGO_SECRET_KEY": "tests-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        "DATABASE_URL": "sqlite://:memory:",
        "AWS_REGION": seed.REGION,
        "AWS_ENDPOINT_URL": "http://localhost:1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "COGNITO_USER_POOL_ID": seed.USER_POOL_ID,
        "COGNITO_CLIENT_ID": seed.CLIENT_ID,
        "COGNITO_CLIENT_SECRET": seed.CLIENT_SECRET,
        "API_ALLOWED_CLIENT_IDS": f"{seed.CLIENT_ID},{seed.MACHINE_CLIENT_ID}",
        "COGNITO_ISSUER": f"http://localhost:1/{seed.USER_POOL_ID}",
        "COGNITO_DOMAIN": "http://localhost:1",
        "APP_URL": "http://testserver",
        "COGNITO_IDENTITY_POOL_ID": seed.IDENTITY_POOL_ID,
        "PROTECTED_BUCKET": seed.BUCKET,
        "COGNITO_IDENTITY_ROLE_ARN": seed.AUTHENTICATED_ROLE,
        "COGNITO_DEVELOPER_PROVIDER_NAME": seed.DEVELOPER_PROVIDER_NAME,
        "DEMO_PANEL_URL": "http://localhost:1/demo/panel.json",
    }
)

from config.settings import *  # noqa: F403

# Plain HTTP in tests (the test client), everything else as in production.
SECURE_SSL_REDIRECT = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# No collectstatic before tests: static files are served from the finders, unhashed.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = None
# Browsers take a `__Host-` cookie only from an https:// page; the test servers speak plain HTTP.
SESSION_COOKIE_NAME = "sessionid"
CSRF_COOKIE_NAME = "csrftoken"
