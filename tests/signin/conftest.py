"""The account tests' fixtures (sign-ins, a clean rate-limit cache) serve these tests too, with
one of API sign-in's own: what the app sends to the pool."""

from collections.abc import Iterator
from typing import Any

import pytest

from config import aws
from tests.accounts.conftest import (  # noqa: F401
    _no_rate_limit_leftovers,
    _plain_static_storage,
    api_signed_in,
    bob,
    sign_in,
)


@pytest.fixture
def captured_requests() -> Iterator[list[dict[str, Any]]]:
    """Every cognito-idp request's parameters, as botocore is about to send them."""
    seen: list[dict[str, Any]] = []

    def capture(params: dict[str, Any], **kwargs: Any) -> None:
        seen.append(params)

    events = aws.client("cognito-idp").meta.events
    events.register("provide-client-params.cognito-idp.*", capture)
    yield seen
    events.unregister("provide-client-params.cognito-idp.*", capture)
