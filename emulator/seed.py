"""The demo world: the same IDs, secrets and users on every start, so tests can rely on them."""

from __future__ import annotations

from dataclasses import dataclass

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
USER_POOL_NAME = "cognito-reference-demo"
USER_POOL_ID = f"{REGION}_DEMOpool1"
# As deploy/cognito-app.yaml creates the pool (AWS recommends it): "Bob" and "BOB" are bob.
# Immutable after creation; emulator/usernames.py makes moto's lookup honour it.
USERNAME_CONFIGURATION = {"CaseSensitive": False}
CLIENT_NAME = "demo-web-app"
CLIENT_ID = "4demo0app0client0id000001a"
CLIENT_SECRET = "demo-client-secret-0123456789abcdefghijklmnopqrstuvwxyz0123"
DOMAIN_PREFIX = "demo-login"
# The account's long-term access key: the only one (besides identity-pool credentials the emulator
# mints) whose SigV4 signatures the emulator accepts. The manifest publishes it.
ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"
# The resource server of the notes API (the app's `api/`): its custom scopes are
# `<identifier>/<scope name>`, as Cognito writes them in access tokens.
RESOURCE_SERVER_ID = "notes"
RESOURCE_SERVER_NAME = "Notes API"
NOTES_READ = "notes/read"
NOTES_WRITE = "notes/write"
RESOURCE_SERVER_SCOPES = (
    ("read", "Read the caller's notes"),
    ("write", "Create and delete the caller's notes"),
)
SCOPES = (
    "openid",
    "email",
    "profile",
    "phone",
    "aws.cognito.signin.user.admin",
    NOTES_READ,
    NOTES_WRITE,
)
# A machine client: confidential, client_credentials only, may read notes but never write them.
MACHINE_CLIENT_NAME = "demo-machine"
MACHINE_CLIENT_ID = "4demo0machine0client00001b"
MACHINE_CLIENT_SECRET = "demo-machine-secret-0123456789abcdefghijklmnopqrstuvwxyz01"
MACHINE_SCOPES = (NOTES_READ,)
# A public client (no secret) for browser and mobile SDKs: SRP and refresh only.
PUBLIC_CLIENT_NAME = "demo-public-app"
PUBLIC_CLIENT_ID = "4demo0public0client000001c"


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    email: str
    mfa: str = "none"  # one of none, totp, sms, email
    totp_secret: str | None = None
    phone_number: str | None = None
    must_change_password: bool = False  # created by AdminCreateUser: NEW_PASSWORD_REQUIRED

    @property
    def attributes(self) -> list[dict[str, str]]:
        """The attributes the user is created with: a verified email, and phone if any."""
        attributes = [
            {"Name": "email", "Value": self.email},
            {"Name": "email_verified", "Value": "true"},
        ]
        if self.phone_number:
            attributes += [
                {"Name": "phone_number", "Value": self.phone_number},
                {"Name": "phone_number_verified", "Value": "true"},
            ]
        return attributes


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser(
        username="alice",
        password="Alice-Passw0rd!",
        email="alice@example.com",
        mfa="totp",
        totp_secret="JBSWY3DPEHPK3PXPALICE234",
    ),
    DemoUser(
        username="carol",
        password="Carol-Passw0rd!",
        email="carol@example.com",
        mfa="totp",
        totp_secret="KRSXG5CTMVRXEZLUCAROL567",
    ),
    DemoUser(username="bob", password="Bob-Passw0rd!", email="bob@example.com"),
    DemoUser(
        username="dave",
        password="Dave-Passw0rd!",
        email="dave@example.com",
        mfa="sms",
        phone_number="+15555550104",
    ),
    DemoUser(username="erin", password="Erin-Passw0rd!", email="erin@example.com", mfa="email"),
    DemoUser(
        username="frank",
        password="Frank-Temp0rary!",
        email="frank@example.com",
        must_change_password=True,
    ),
)

# CUSTOM_AUTH: the pool's Define/Create/VerifyAuthChallenge triggers, as dotted paths to Python
# callables (the emulator's stand-in for Lambda): a one-time code emailed to the inbox.
CUSTOM_AUTH_TRIGGERS = {
    "DefineAuthChallenge": "emulator.triggers.define_email_code",
    "CreateAuthChallenge": "emulator.triggers.create_email_code",
    "VerifyAuthChallengeResponse": "emulator.triggers.verify_email_code",
}
# Pre token generation (LambdaConfig.PreTokenGenerationConfig): version V3_0 so that machine
# tokens go through it too. The seed's trigger gives API sign-ins of NOTES_WRITERS_GROUP the
# notes scopes (emulator/pretoken.py); OAuth sign-ins keep the scopes their client asked for.
PRE_TOKEN_GENERATION = {
    "LambdaVersion": "V3_0",
    "LambdaArn": "emulator.pretoken.notes_scopes_for_writers",
}
NOTES_WRITERS_GROUP = "members"
# The identity pool, its roles and the bucket the protected page reads (emulator/storage_world.py).
IDENTITY_POOL_NAME = "cognito_reference_demo_identities"
IDENTITY_POOL_ID = f"{REGION}:de3e0000-0000-4000-8000-000000000001"
DEVELOPER_PROVIDER_NAME = "login.cognito-reference.demo"
BUCKET = "cognito-reference-demo-protected"
AUTHENTICATED_ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/cognito-demo-authenticated"
GUEST_ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/cognito-demo-guest"
READ_ONLY_ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/cognito-demo-read-only"
# User pool groups carrying roles (token-based role selection): alice may pick either role.
GROUPS = (
    ("members", AUTHENTICATED_ROLE, 1, ("alice",)),
    ("read-only", READ_ONLY_ROLE, 2, ("alice",)),
)

# Managed login branding and threat protection (issue 14): a second web client, each client's
# style, and the pool's risk configuration (emulator/branding.py and emulator/risk.py use these).
PARTNER_CLIENT_NAME = "demo-partner-site"
PARTNER_CLIENT_ID = "4demo0partner0client00002b"
PARTNER_CALLBACK_URL = "http://localhost:8765/partner/callback"
# RRGGBBAA colours as Cognito's branding settings give them: page background, button, button text.
BRAND_COLORS = {
    CLIENT_ID: ("e8f1fbff", "0972d3ff", "ffffffff"),
    PARTNER_CLIENT_ID: ("fdf3e7ff", "1d8102ff", "ffffffff"),
}
# Sign-ins from TEST-NET-3 (RFC 5737) are High risk; TEST-NET-2 is on the pool's block list.
RISKY_IP_RANGES = ("203.0.113.0/24",)
BLOCKED_IP_RANGES = ("198.51.100.0/24",)
RISK_CONFIGURATION = {
    "CompromisedCredentialsRiskConfiguration": {
        "EventFilter": ["SIGN_IN", "PASSWORD_CHANGE", "SIGN_UP"],
        "Actions": {"EventAction": "BLOCK"},
    },
    "AccountTakeoverRiskConfiguration": {
        "Actions": {
            "LowAction": {"Notify": False, "EventAction": "NO_ACTION"},
            "MediumAction": {"Notify": True, "EventAction": "MFA_IF_CONFIGURED"},
            "HighAction": {"Notify": True, "EventAction": "MFA_REQUIRED"},
        }
    },
    "RiskExceptionConfiguration": {"BlockedIPRangeList": list(BLOCKED_IP_RANGES)},
}

# Choice-based sign-in (USER_AUTH), passkeys and remembered devices (issue 15;
# emulator/userauthseed.py provisions them). The demo client allows ALLOW_USER_AUTH.
FIRST_AUTH_FACTORS = ("PASSWORD", "EMAIL_OTP", "SMS_OTP", "WEB_AUTHN")
# Chromium accepts `localhost` as a relying party ID for http://localhost and *.localhost.
WEBAUTHN_RELYING_PARTY_ID = "localhost"
WEBAUTHN_USER_VERIFICATION = "preferred"
DEVICE_CONFIGURATION = {
    "ChallengeRequiredOnNewDevice": True,
    "DeviceOnlyRememberedOnUserPrompt": True,
}
# A passwordless-only user: no password at all, a verified email and phone (EMAIL_OTP, SMS_OTP).
PASSWORDLESS_USER = DemoUser(
    username="grace", password="", email="grace@example.com", phone_number="+15555550107"
)
# A passkey-ready user: a password, no MFA, and one passkey already registered. Its private key
# (PKCS#8, P-256) is published here so a test can load it into a software or virtual
# authenticator (Chromium's WebAuthn.addCredential) and sign in with it; demo use only.
PASSKEY_USER = DemoUser(username="heidi", password="Heidi-Passw0rd!", email="heidi@example.com")
PASSKEY_CREDENTIAL_ID = "aGVpZGktZGVtby1wYXNza2V5LTAwMDE"  # base64url of "heidi-demo-passkey-0001"
PASSKEY_PRIVATE_KEY = (
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgsBpp4n0cFKej5Fd5/ayqYoyN/HfHW7qdDbOQSzu6lLWh"
    "RANCAARGuA3WcMj9iUG4wc7uuqlSwX+cp94V4l/iD1tPVt2wkT1EoyFOF/JjQ/b4jPowTixMi/sYz0YJNVqSKLgWOudR"
)
