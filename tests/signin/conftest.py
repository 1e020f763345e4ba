"""The account tests' fixtures (sign-ins, a clean rate-limit cache) serve these tests too."""

from tests.accounts.conftest import (  # noqa: F401
    _no_rate_limit_leftovers,
    _plain_static_storage,
    api_signed_in,
    bob,
    sign_in,
)
