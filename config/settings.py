"""Settings, read from the environment only (django-environ); `.env` is read when present."""

from __future__ import annotations

import importlib.util
import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def https_url(name: str, value: str) -> str:
    """Accept `https://` anywhere and `http://` only on a loopback host (the emulator)."""
    parts = urlsplit(value)
    if parts.scheme == "https" and parts.hostname:
        return value.rstrip("/")
    if parts.scheme == "http" and parts.hostname and _is_loopback(parts.hostname):
        return value.rstrip("/")
    raise ImproperlyConfigured(
        f"{name} must be an https:// URL (http:// only on 127.0.0.1 or localhost): {value!r}"
    )


DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else []
)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "csp",
    "accounts",
    "signin",
    "selfservice",
    "federation",
    "identity",
    "protected",
    "flows",
    "api",
    "demo",
    "config.apps.SiteConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.ResponseHeadersMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    # Before anything reads a body (the CSRF check parses every POST): oversized ones are refused.
    "protected.uploads.BodySizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Before the refresh, so /flows/ shows refreshes too.
    "flows.trace.TraceMiddleware",
    # After messages: it tells a user whose session it ends why.
    "accounts.middleware.TokenRefreshMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

AUTH_USER_MODEL = "accounts.User"
# Django's ModelBackend, reading the session's user through the shared cache when there is one.
AUTHENTICATION_BACKENDS = ["config.usercache.UserBackend"]
# How long a cached user row may serve (saves and deletes through the ORM drop it at once).
USER_CACHE_SECONDS = env.int("USER_CACHE_SECONDS", default=300)
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.visitor",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Every signed-in request reads its session and user from the database: a worker keeps its
# connection between requests (checked before reuse) instead of opening and closing one per
# request. `?conn_max_age=0` in DATABASE_URL turns this off.
DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
# The site speaks English only (no translations, no LocaleMiddleware). Off, Django skips its
# translation machinery: each {% url %} and every other language lookup no longer goes through
# the active-language context variable, about a twentieth of a page's time (docs/bench.md, "Load").
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Django's cache holds the rate-limit counters, and serves sessions when it is shared. CACHE_URL
# names a cache every process of the site reaches (redis://host:6379/0 across machines,
# filecache:///var/tmp/app-cache on one machine); unset, each process counts in its own memory.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "config.cache.RedisCache"  # one Redis client per process
SHARED_CACHE = CACHES["default"]["BACKEND"].rsplit(".", 1)[-1] not in {"LocMemCache", "DummyCache"}
# Sessions hold tokens, so they live on the server, never in signed cookies: in the database, and
# read through the shared cache when there is one (each save writes both, so the database stays
# the record and a sign-out in one process is seen by all). A per-process cache would not be.
SESSION_ENGINE = "django.contrib.sessions.backends." + ("cached_db" if SHARED_CACHE else "db")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 60 * 60)  # absolute lifetime
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=30 * 60)
# The absolute lifetime stays absolute: sign-in fixes the expiry date, saves never push it back.
SESSION_SAVE_EVERY_REQUEST = False
CSRF_COOKIE_SAMESITE = "Lax"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"

# HTTPS only: Secure cookies, HTTP redirected, HSTS; on unless DEBUG. The demo's site runs with
# DEBUG off (the site's own error pages) on plain http, so it sets DJANGO_HTTPS=false.
HTTPS_ONLY = env.bool("DJANGO_HTTPS", default=not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS_ONLY
if HTTPS_ONLY:
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # load balancers probe over HTTP

# The `__Host-` prefix makes browsers take the cookie only with Secure, Path=/ and no Domain, so
# no other host of the domain can set or shadow it. Plain HTTP (the demo) keeps the usual names.
if SESSION_COOKIE_SECURE:
    SESSION_COOKIE_NAME = "__Host-sessionid"
if CSRF_COOKIE_SECURE:
    CSRF_COOKIE_NAME = "__Host-csrftoken"

# --- Headers: CSP, referrer, Retry-After (see config/middleware.py) ----------------------------
# django-csp's policy for every page. The templates hold no inline script, style or event
# handler (site.css only; the QR code is inline SVG markup, which CSP does not govern), so none
# is allowed. form-action also gets the managed login origin (ContentSecurityPolicyMiddleware).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
# Django's default, said out loud: other sites never see this site's URLs. Not `no-referrer`
# site-wide: browsers then send `Origin: null` on the site's own form posts, which Django's CSRF
# check refuses. Pages whose URL holds a code or state get `no-referrer` (config/middleware.py).
SECURE_REFERRER_POLICY = "same-origin"
# Uploaded files stay in memory, capped at the upload limit, never spooled to disk.
FILE_UPLOAD_HANDLERS = ["protected.uploads.LimitedUploadHandler"]

# --- Amazon Cognito and AWS -------------------------------------------------------------------
AWS_REGION = env.str("AWS_REGION")
# Empty against AWS; boto3 reads AWS_ENDPOINT_URL itself, the app also passes it explicitly.
AWS_ENDPOINT_URL = env.str("AWS_ENDPOINT_URL", default="") or None
COGNITO_USER_POOL_ID = env.str("COGNITO_USER_POOL_ID")
COGNITO_CLIENT_ID = env.str("COGNITO_CLIENT_ID")
COGNITO_CLIENT_SECRET = env.str("COGNITO_CLIENT_SECRET", default="") or None
COGNITO_ISSUER = https_url(
    "COGNITO_ISSUER",
    env.str(
        "COGNITO_ISSUER",
        default=f"https://cognito-idp.{AWS_REGION}.amazonaws.com/{COGNITO_USER_POOL_ID}",
    ),
)
COGNITO_DOMAIN = https_url("COGNITO_DOMAIN", env.str("COGNITO_DOMAIN"))
# aws.cognito.signin.user.admin lets the account pages call GetUser, ChangePassword and the like
# with managed login's tokens; drop it for an app client that does not allow it.
COGNITO_SCOPES = env.list(
    "COGNITO_SCOPES", default=["openid", "email", "profile", "aws.cognito.signin.user.admin"]
)
# App clients whose access tokens the notes API accepts (api/); others get 401 invalid_token.
API_ALLOWED_CLIENT_IDS = env.list("API_ALLOWED_CLIENT_IDS", default=[COGNITO_CLIENT_ID])
COGNITO_IDENTITY_POOL_ID = env.str("COGNITO_IDENTITY_POOL_ID", default="")
PROTECTED_BUCKET = env.str("PROTECTED_BUCKET", default="")
# Federated sign-in: the IdP buttons come from the pool (DescribeUserPoolClient and
# DescribeIdentityProvider, which need AWS credentials), cached this many seconds. For a pool
# the app may not describe, list them instead: `Name` or `Name=Display name`, comma-separated.
COGNITO_IDENTITY_PROVIDERS = env.list("COGNITO_IDENTITY_PROVIDERS", default=[])
# What the IdPs read from the pool are called on the site (`Name=Display name`, comma-separated):
# the pool keeps no display name for an OIDC or SAML provider.
COGNITO_IDENTITY_PROVIDER_NAMES = env.list("COGNITO_IDENTITY_PROVIDER_NAMES", default=[])
IDENTITY_PROVIDERS_CACHE_SECONDS = 5 * 60
# How signed-in users get credentials: "enhanced" (GetCredentialsForIdentity) or "basic"
# (GetOpenIdToken, then STS AssumeRoleWithWebIdentity with COGNITO_IDENTITY_ROLE_ARN).
COGNITO_IDENTITY_FLOW = env.str("COGNITO_IDENTITY_FLOW", default="enhanced")
if COGNITO_IDENTITY_FLOW not in ("enhanced", "basic"):
    raise ImproperlyConfigured("COGNITO_IDENTITY_FLOW must be enhanced or basic")
COGNITO_IDENTITY_ROLE_ARN = env.str("COGNITO_IDENTITY_ROLE_ARN", default="")
# The identity pool's developer provider: set it to let the app vouch for users itself.
COGNITO_DEVELOPER_PROVIDER_NAME = env.str("COGNITO_DEVELOPER_PROVIDER_NAME", default="")
# Identity credentials are renewed this many seconds before they expire.
IDENTITY_CREDENTIALS_MARGIN = env.int("IDENTITY_CREDENTIALS_MARGIN", default=300)

# --- API sign-in and self-service (the app's own forms, through the user pools API) -----------
# USER_SRP_AUTH (default: the password itself never goes to Cognito) or USER_PASSWORD_AUTH.
COGNITO_AUTH_FLOW = env.str("COGNITO_AUTH_FLOW", default="USER_SRP_AUTH")
if COGNITO_AUTH_FLOW not in ("USER_SRP_AUTH", "USER_PASSWORD_AUTH"):
    raise ImproperlyConfigured("COGNITO_AUTH_FLOW must be USER_SRP_AUTH or USER_PASSWORD_AUTH")
# AdminInitiateAuth/AdminRespondToAuthChallenge instead, for servers that hold AWS credentials.
COGNITO_ADMIN_AUTH = env.bool("COGNITO_ADMIN_AUTH", default=False)
# How long a sign-in may wait on one challenge step: Cognito's AuthSessionValidity (3 min default).
COGNITO_AUTH_SESSION_SECONDS = env.int("COGNITO_AUTH_SESSION_SECONDS", default=180)
# How recent a proof (sign-in or password) must be to turn MFA off, replace the authenticator,
# change the email or add a passkey.
REAUTHENTICATION_SECONDS = 5 * 60
# The only user attributes the app ever sends to the pool (sign-up, new password, profile).
COGNITO_USER_ATTRIBUTES = env.list(
    "COGNITO_USER_ATTRIBUTES", default=["email", "given_name", "family_name"]
)
# Shown when the pool's own policy cannot be read (DescribeUserPool needs AWS credentials).
COGNITO_PASSWORD_POLICY_TEXT = env.str(
    "COGNITO_PASSWORD_POLICY_TEXT",
    default="At least 8 characters, with upper and lower case letters, a number and a symbol.",
)
# App-side limits on failed sign-in, MFA and code attempts, per account and per client address.
AUTH_RATE_LIMIT_PER_ACCOUNT = env.int("AUTH_RATE_LIMIT_PER_ACCOUNT", default=5)
AUTH_RATE_LIMIT_PER_ADDRESS = env.int("AUTH_RATE_LIMIT_PER_ADDRESS", default=50)
AUTH_RATE_LIMIT_WINDOW = env.int("AUTH_RATE_LIMIT_WINDOW", default=15 * 60)
# The reverse proxies in front of the site (addresses or CIDR ranges, comma-separated). Only what
# they add to X-Forwarded-For names the client (rate limits, Cognito's UserContextData); unset,
# the header is ignored and the client is REMOTE_ADDR.
try:
    TRUSTED_PROXIES = [
        ipaddress.ip_network(value, strict=False)
        for value in env.list("TRUSTED_PROXIES", default=[])
    ]
except ValueError as error:
    raise ImproperlyConfigured(f"TRUSTED_PROXIES: {error}") from error
# Retry-After on a 429 that sets none of its own (config/middleware.py): the longest wait there is.
RETRY_AFTER_SECONDS = AUTH_RATE_LIMIT_WINDOW

# The site's own public base URL. The OAuth redirect_uri and logout_uri are built from it, never
# from the request's Host header, so a poisoned Host cannot change where codes are sent.
APP_URL = env.str("APP_URL", default="http://127.0.0.1:8000" if DEBUG else None)
if not APP_URL:
    raise ImproperlyConfigured("Set the APP_URL environment variable")
APP_URL = APP_URL.rstrip("/")

# The demo panel (/demo/): the emulator's JSON of demo users, TOTP codes and inbox. Set by
# `manage.py demo` and the tests; empty (the default, and always in production) turns it off.
DEMO_PANEL_URL = env.str("DEMO_PANEL_URL", default="")
if DEMO_PANEL_URL:
    DEMO_PANEL_URL = https_url("DEMO_PANEL_URL", DEMO_PANEL_URL)

# Network calls: explicit timeouts everywhere (seconds).
HTTP_TIMEOUT = (
    env.float("HTTP_CONNECT_TIMEOUT", default=3.0),
    env.float("HTTP_READ_TIMEOUT", default=5.0),
)
# Refresh tokens this many seconds before they expire.
TOKEN_REFRESH_MARGIN = env.int("TOKEN_REFRESH_MARGIN", default=120)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # runserver's request lines (the demo's log) hold query strings: codes and states redacted.
    "filters": {"secrets_redacted": {"()": "config.logs.SecretsRedacted"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["secrets_redacted"],
        },
    },
    "loggers": {
        "accounts": {"handlers": ["console"], "level": "INFO"},
        # DEBUG lines of botocore carry request and response bodies, AWS credentials among them.
        "botocore": {"level": "WARNING"},
        "federation": {"handlers": ["console"], "level": "INFO"},
        "identity": {"handlers": ["console"], "level": "INFO"},
        "protected": {"handlers": ["console"], "level": "INFO"},
        "api": {"handlers": ["console"], "level": "INFO"},
        "demo": {"handlers": ["console"], "level": "INFO"},
        "django": {"handlers": ["console"], "level": "INFO"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}

# The demo command (`manage.py demo`) lives with the emulator, a development tool that is only
# installed with the `emulator` extra and never imported by the apps.
if DEBUG and importlib.util.find_spec("moto") is not None:
    INSTALLED_APPS.append("emulator")
