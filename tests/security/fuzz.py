"""What every fuzz test shares: one modest Hypothesis profile and the "no crash" check."""

from __future__ import annotations

import string
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Fast enough for every run: each test stays within a few seconds. The fixtures (a signed-in
# client, the emulator) are built once per test and shared by its examples, on purpose.
fuzz = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# For tests whose examples often start a sign-in again (SRP and a challenge: about 0.3 s each).
fuzz_slow = settings(fuzz, max_examples=15)

# Text a user (or an attacker) can send: any printable or control character, NUL included,
# plus the strings that have broken parsers before.
TRICKY = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "%00",
        "../../etc/passwd",
        "<script>alert(1)</script>",
        "' OR '1'='1",
        "{{ 7*7 }}",
        "a" * 5000,
        "😀" * 50,
        "\u202e",
        "//evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "-1",
        "1e309",
        "NaN",
        "null",
        "[]",
        "{}",
    ]
)
TEXT = st.one_of(
    st.text(max_size=80), TRICKY, st.text(string.printable, min_size=200, max_size=3000)
)
# A form value: usually one string, sometimes the same field sent twice.
VALUE = st.one_of(TEXT, st.lists(TEXT, min_size=2, max_size=3))
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def form_data(fields: list[str], **known: st.SearchStrategy[Any]) -> st.SearchStrategy[dict]:
    """A POST body for `fields`: each present or not, any value (or one from `known`)."""
    entries = {name: known.get(name, VALUE) for name in fields}
    return st.fixed_dictionaries({}, optional={**entries, "unexpected": VALUE})


def assert_answered(response: Any) -> None:
    """A clear answer: no 500, no stack trace, no debug page.

    Django's test client re-raises a view's exception, so an uncaught one fails the test too.
    """
    assert response.status_code < 500, response.status_code
    body = response.content.decode(errors="replace") if not response.streaming else ""
    assert "Traceback" not in body and "Exception Value" not in body, body[:500]
