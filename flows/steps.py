# ruff: noqa: E501 (the source text, one step a line, is easier to check against it whole)
"""The source text's numbered steps of each flow (cognito-auth-flows.txt), word for word."""

from __future__ import annotations

# "Managed login authentication flow": 16 steps.
MANAGED = (
    "A user accesses your application.",
    'They select a "Sign in" link.',
    "The application directs the user to a sign-in prompt in the managed login pages of your user pool domain.",
    "They enter their username and password.",
    "The user pool validates the user's credentials and determines that the user has activated multi-factor authentication (MFA).",
    "The managed login page prompts the user to enter an MFA code.",
    "The user enters their MFA code.",
    "Your user pool redirects the user to the application URL.",
    "The application collects the authorization code from the URL request parameter that managed login appended to the callback URL.",
    "The application requests tokens with the authorization code.",
    "The token endpoint returns JWTs to the application.",
    "The application decodes, validates, and stores or caches the user's JWTs.",
    "The application displays the requested access-controlled component.",
    "The user views their content.",
    "Later, the user's access token has expired, and they request to view an access-controlled component.",
    "The application determines that the user's session should persist. It requests new tokens from the token endpoint with the refresh token.",
)

# "API authentication flow": 15 steps.
API = (
    "A user accesses your application.",
    'They select a "Sign in" link.',
    "They enter their username and password.",
    "The application invokes the method that makes an InitiateAuth API request. The request passes the user's credentials to a user pool.",
    "The user pool validates the user's credentials and determines that the user has activated multi-factor authentication (MFA).",
    "The user pool responds with a challenge that requests an MFA code.",
    "The application generates a prompt that collects the MFA code from the user.",
    "The application invokes the method that makes a RespondToAuthChallenge API request. The request passes the user's MFA code.",
    "The user pool validates the user's MFA code.",
    "The user pool responds with the user's JWTs.",
    "The application decodes, validates, and stores or caches the user's JWTs.",
    "The application displays the requested access-controlled component.",
    "The user views their content.",
    "Later, the user's access token has expired, and they request to view an access-controlled component.",
    "The application determines that the user's session should persist. It invokes the InitiateAuth method again with the refresh token and retrieves new tokens.",
)

# "Federated authentication flow": 17 steps.
FEDERATED = (
    "A user accesses your application.",
    'They select a "Sign in" link.',
    "The application directs the user to a sign-in prompt with their IdP.",
    "They enter their username and password.",
    "The IdP validates the user's credentials and determines that the user has activated multi-factor authentication (MFA).",
    "The IdP prompts the user to enter an MFA code.",
    "The user enters their MFA code.",
    "The IdP redirects the user to the user pool with a SAML response or an authorization code.",
    "If the user passed an authorization code, the user pool silently exchanges the code for IdP tokens. The user pool validates the IdP tokens and redirects the user to the application with a new authorization code.",
    "The application collects the authorization code from the URL request parameter that the user pool appended to the callback URL.",
    "The application requests tokens with the authorization code.",
    "The token endpoint returns JWTs to the application.",
    "The application decodes, validates, and stores or caches the user's JWTs.",
    "The application displays the requested access-controlled component.",
    "The user views their content.",
    "Later, the user's access token has expired, and they request to view an access-controlled component.",
    "The application determines that the user's session should persist. It requests new tokens from the token endpoint with the refresh token.",
)

# "Identity pool authentication flow": 21 steps.
IDENTITY = (
    "A user accesses your application.",
    'They select a "Sign in" link.',
    "The application directs the user to a sign-in prompt with their IdP.",
    "They enter their username and password.",
    "The IdP validates the user's credentials.",
    "The IdP redirects the user to the application with a SAML response or an authorization code.",
    "If the user passed an authorization code, the application exchanges the code for IdP tokens.",
    "The application decodes, validates, and stores or caches the user's JWTs or assertion.",
    "The application invokes the method that makes a GetId API request. It passes the user's token or assertion and requests an identity ID.",
    "The identity pool validates the token or assertion against configured identity providers.",
    "The identity pool returns an identity ID.",
    "The application invokes the method that makes a GetCredentialsForIdentity API request. It passes the user's token or assertions and requests an IAM role.",
    "The identity pool generates a new JWT. The new JWT contains claims that request an IAM role. The identity pool determines the role based on the user's request and the role-selection criteria in the identity pool configuration for the IdP.",
    "AWS Security Token Service (AWS STS) responds to the AssumeRoleWithWebIdentity request from the identity pool. The response contains API credentials for a temporary session with an IAM role.",
    "The application stores the session credentials.",
    "The user takes an action in the app that requires access-protected resources in AWS.",
    "The application applies the temporary credentials as signatures to API requests for the required AWS services.",
    "IAM evaluates the policies attached to the role in the credentials. It compares them to the request.",
    "The AWS service returns the requested data.",
    "The application renders the data in the user's interface.",
    "The user views the data.",
)

# Each kind of flow flows/trace.py records: its title, the source flow it follows, and what
# happened in plain words.
FLOWS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "managed": (
        "Managed login",
        MANAGED,
        "The site sent your browser to the user pool's own sign-in pages. You signed in there; "
        "the pool sent you back with a one-time code, which the site exchanged for tokens "
        "and checked before signing you in.",
    ),
    "federated": (
        "Sign-in with another account",
        FEDERATED,
        "The site sent your browser to the user pool, which sent it on to your identity "
        "provider. After you signed in there, the pool sent you back with a one-time code, "
        "which the site exchanged for the pool's tokens and checked.",
    ),
    "api": (
        "Sign-in on this site",
        API,
        "You typed your username and password into this site's own form. The site asked the "
        "user pool's API to check them (with SRP, the default, the password never leaves the site), "
        "answered the pool's challenges with what you typed next, and checked the tokens.",
    ),
    "refresh_managed": (
        "Tokens renewed (token endpoint)",
        MANAGED,
        "Your access token was about to expire, so the site asked the user pool's token "
        "endpoint for new tokens with the refresh token, and checked them.",
    ),
    "refresh_api": (
        "Tokens renewed (user pools API)",
        API,
        "Your access token was about to expire, so the site asked the user pools API for new "
        "tokens with the refresh token, and checked them.",
    ),
    "identity": (
        "AWS credentials from the identity pool",
        IDENTITY,
        "The site traded proof of who you are (your ID token, or nothing for a guest) for an "
        "identity ID and temporary AWS credentials, and kept them on the server.",
    ),
    "protected": (
        "A read of protected files",
        IDENTITY,
        "The site signed requests to S3 with your temporary credentials; IAM, not the site, "
        "decided what they may read.",
    ),
}
