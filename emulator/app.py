"""The emulator's WSGI app: its own routes and operations in front of moto's server app."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from io import BytesIO
from typing import TYPE_CHECKING, Any

from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from emulator import (
    awsauth,
    branding,
    federation,
    login,
    oauth2,
    operations,
    pages,
    panel,
    s3auth,
    sts,
    wellknown,
    world,
)
from emulator import identity as identity_pools
from emulator.errors import (
    AuthorizeRedirectError,
    CognitoError,
    ErrorPage,
    InvalidClient,
    InvalidToken,
    OAuthError,
)
from emulator.hostedaccount import ACCOUNT_RULES
from emulator.hostedpasskeys import PASSKEY_RULES
from emulator.hostedpasswordless import PASSWORDLESS_RULES
from emulator.responses import AMZ_JSON, json_response, redirect, with_query

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from emulator.state import EmulatorState

logger = logging.getLogger(__name__)
Handler = Callable[..., Response]


def inbox_page(state: EmulatorState, request: Request) -> Response:
    """The inbox, for people, with a way back to the sites that use this pool."""
    return pages.inbox_page(state.inbox.messages(), sites=list(state.logout_urls))


def inbox_json(state: EmulatorState, request: Request) -> Response:
    """The inbox, for tests: a JSON list of messages, oldest first."""
    return json_response([message.to_json() for message in state.inbox.messages()])


def reset(state: EmulatorState, request: Request) -> Response:
    """Restore the demo world to its seed."""
    world.reset(state)
    return json_response({"status": "reset"})


URLS = Map(
    [
        Rule(
            "/<pool_id>/.well-known/openid-configuration",
            endpoint=wellknown.openid_configuration,
            methods=["GET"],
        ),
        Rule("/<pool_id>/.well-known/jwks.json", endpoint=wellknown.jwks, methods=["GET"]),
        Rule("/oauth2/authorize", endpoint=oauth2.authorize, methods=["GET"]),
        Rule("/oauth2/token", endpoint=oauth2.token, methods=["POST"]),
        Rule("/oauth2/userInfo", endpoint=oauth2.userinfo, methods=["GET", "POST"]),
        Rule("/oauth2/revoke", endpoint=oauth2.revoke, methods=["POST"]),
        Rule("/oauth2/idpresponse", endpoint=federation.oauth2_idpresponse, methods=["GET"]),
        Rule("/saml2/idpresponse", endpoint=federation.saml2_idpresponse, methods=["POST"]),
        Rule("/login", endpoint=login.login, methods=["GET", "POST"]),
        Rule("/mfa", endpoint=login.mfa, methods=["POST"]),
        *ACCOUNT_RULES,
        *PASSWORDLESS_RULES,
        *PASSKEY_RULES,
        *branding.RULES,
        Rule("/logout", endpoint=oauth2.logout, methods=["GET"]),
        Rule("/error", endpoint=oauth2.error, methods=["GET"]),
        Rule("/inbox", endpoint=inbox_page, methods=["GET"]),
        Rule("/inbox.json", endpoint=inbox_json, methods=["GET"]),
        Rule("/reset", endpoint=reset, methods=["POST"]),
        Rule("/demo/panel.json", endpoint=panel.demo_panel, methods=["GET"]),
        Rule("/site.css", endpoint=pages.stylesheet, methods=["GET"]),
        Rule("/.well-known/jwks_uri", endpoint=identity_pools.openid_jwks, methods=["GET"]),
    ],
    strict_slashes=False,
)


def create_app(state: EmulatorState) -> WSGIApplication:
    """A WSGI app answering the emulator's routes and operations, and handing the rest to moto."""
    moto_app = DomainDispatcherApplication(create_backend_app)

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target in operations.OPERATIONS or target in identity_pools.OPERATIONS:
            request = Request(environ)
            call = awsauth.api_call(request)
            try:
                caller = awsauth.authenticate(state, request, call)
                # cognito-identity's admin operations refuse identity credentials themselves.
                if target in operations.OPERATIONS:
                    awsauth.authorize(caller, call)
            except awsauth.AuthError as error:
                return awsauth.error_response(call, error)(environ, start_response)
            dispatch = (
                operations.dispatch if target in operations.OPERATIONS else identity_pools.dispatch
            )
            response = _answer(state, request, dispatch, {"target": target})
            return response(environ, start_response)
        if not target and sts.is_web_identity_call(environ):
            response = sts.assume_role_with_web_identity(state, Request(environ))
            return response(environ, start_response)
        try:
            endpoint, args = URLS.bind_to_environ(environ).match()
        except NotFound:
            return _s3_checked(state, moto_app, environ, start_response)
        except HTTPException as exc:
            response = json_response({"error": "invalid_request"}, status=exc.code or 400)
            return response(environ, start_response)
        response = _answer(state, Request(environ), endpoint, args)
        return response(environ, start_response)

    return app


def _s3_checked(
    state: EmulatorState,
    moto_app: WSGIApplication,
    environ: WSGIEnvironment,
    start_response: StartResponse,
) -> Iterable[bytes]:
    """Every AWS call is signed with a known key (S3 also passes IAM) before it reaches moto."""
    request = Request(environ)
    call = awsauth.api_call(request)
    if call is None and s3auth.is_s3_request(request):
        denied = s3auth.check(state, request)
        if denied is not None:
            return denied(environ, start_response)
    elif call is not None or _is_signed(request):
        try:
            awsauth.authorize(awsauth.authenticate(state, request, call), call)
        except awsauth.AuthError as error:
            return awsauth.error_response(call, error)(environ, start_response)
    # The signature check read the body: moto reads it again.
    environ["wsgi.input"] = BytesIO(request.get_data(cache=True))
    return moto_app(environ, start_response)


def _is_signed(request: Request) -> bool:
    """Carries a SigV4 signature (header or query), whatever API it calls."""
    return (
        request.headers.get("Authorization", "").startswith("AWS4-")
        or "X-Amz-Signature" in request.args
    )


def _answer(
    state: EmulatorState, request: Request, handler: Handler, args: dict[str, Any]
) -> Response:
    """Run a handler and turn the emulator's errors into Cognito's answers, never a traceback."""
    try:
        return handler(state, request, **args)
    except OAuthError as exc:
        response = json_response({"error": exc.code}, status=exc.status)
        if isinstance(exc, InvalidClient) and exc.basic:
            response.headers["WWW-Authenticate"] = 'Basic realm="cognito"'
        return response
    except AuthorizeRedirectError as exc:
        params = {"error": exc.error.code, "error_description": exc.error.description or None}
        return redirect(with_query(exc.redirect_uri, {**params, "state": exc.state}))
    except ErrorPage as exc:
        if exc.redirect:
            return redirect(
                with_query("/error", {"error": exc.code, "client_id": exc.client_id or None})
            )
        return pages.error_page(exc.code)
    except InvalidToken as exc:
        response = Response("", status=exc.status)
        response.headers["WWW-Authenticate"] = (
            f'Bearer error="{exc.code}", error_description="{exc.description}"'
        )
        return response
    except CognitoError as exc:
        response = json_response(
            {"__type": exc.code, "message": exc.message},
            status=exc.status,
            content_type=AMZ_JSON,
        )
        response.headers["x-amzn-ErrorType"] = f"{exc.code}:"
        response.headers["x-amzn-ErrorMessage"] = exc.message
        return response
    except Exception:
        # The path only: query strings and bodies may hold codes, tokens or passwords.
        logger.exception("emulator error at %s %s", request.method, request.path)
        return json_response({"error": "server_error"}, status=500)
