"""Secrets out of request lines: the query parameters that carry codes, states and tokens."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

# Query parameters whose value is a credential or lets one be obtained: authorization codes and
# their state, tokens and token hints, SAML messages, and the parts of a presigned S3 URL.
SECRET_PARAMETERS = frozenset(
    {
        "code",
        "state",
        "token",
        "access_token",
        "id_token",
        "refresh_token",
        "id_token_hint",
        "client_secret",
        "code_verifier",
        "session",
        "password",
        "samlresponse",
        "samlrequest",
        "relaystate",
        "signature",
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
    }
)
REDACTED = "[redacted]"
# name=value in a query: the name after `?` or `&`, the value up to the next `&`, space or quote.
_PARAMETER = re.compile(r"(?P<lead>[?&;])(?P<name>[^=&\s\"'?#]+)=(?P<value>[^&\s\"'#]*)")


def secrets_redacted(text: str) -> str:
    """`text` with the value of every secret query parameter replaced by `[redacted]`."""

    def replace(match: re.Match[str]) -> str:
        if match["name"].lower() not in SECRET_PARAMETERS:
            return match[0]
        return f"{match['lead']}{match['name']}={REDACTED}"

    return _PARAMETER.sub(replace, text)


def carries_secret(query: Mapping[str, object]) -> bool:
    """True when a request's query names a secret parameter (`code`, `state`, a token...)."""
    return any(name.lower() in SECRET_PARAMETERS for name in query)


class SecretsRedacted(logging.Filter):
    """A logging filter: the record's message, with secret query parameters redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = secrets_redacted(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
