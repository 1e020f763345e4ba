"""Threat protection on the account pages, against the emulator (demo pool ENFORCED): leaked
passwords refused with the reason, and "Recent sign-in activity" with feedback, own events only."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from config import aws
from emulator import risk, seed
from tests.accounts.conftest import USERS, api_signin, attempt_id, inbox_code
from tests.selfservice.test_self_service import failure, signed_up

pytestmark = pytest.mark.django_db

LEAKED = sorted(risk.LEAKED_PASSWORDS)[0]
LEAK_MESSAGE = "known to have been leaked"
RISKY = "203.0.113.9"


def events_of(username: str) -> list[dict[str, Any]]:
    response = aws.client("cognito-idp").admin_list_user_auth_events(
        UserPoolId=seed.USER_POOL_ID, Username=username
    )
    return response["AuthEvents"]


def signed_in_from(client: Client, username: str, address: str) -> Client:
    assert api_signin(client, username, REMOTE_ADDR=address)["Location"] == "/"
    return client


# --- leaked passwords ---------------------------------------------------------------------------


def test_sign_up_with_a_leaked_password_is_refused_saying_why(
    emulator: Any, client: Client
) -> None:
    refused = signed_up(client, password=LEAKED)
    accepted = signed_up(client)

    assert refused.status_code == 400 and failure(refused) == "password_leaked"
    assert LEAK_MESSAGE in refused.content.decode()
    assert accepted["Location"] == "/accounts/signup/confirm/"


def test_password_change_to_a_leaked_password_is_refused_saying_why(
    emulator: Any, client: Client, api_signed_in: Any
) -> None:
    api_signed_in("bob")
    old = USERS["bob"].password

    refused = client.post(
        "/accounts/password/change/", {"old_password": old, "new_password": LEAKED}
    )
    accepted = client.post(
        "/accounts/password/change/", {"old_password": old, "new_password": "Bob-Fresh-Passw0rd!"}
    )

    assert refused.status_code == 400 and failure(refused) == "password_leaked"
    assert LEAK_MESSAGE in refused.content.decode()
    assert accepted["Location"] == "/accounts/profile/"


def test_a_reset_to_a_leaked_password_is_refused_saying_why(emulator: Any, client: Client) -> None:
    client.post("/accounts/password/forgot/", {"username": "bob"})
    code = inbox_code(emulator, "bob@example.com", "forgot_password")

    refused = client.post("/accounts/password/reset/", {"code": code, "new_password": LEAKED})
    accepted = client.post(
        "/accounts/password/reset/", {"code": code, "new_password": "Bob-Fresh-Passw0rd!"}
    )

    assert refused.status_code == 400 and failure(refused) == "password_leaked"
    assert LEAK_MESSAGE in refused.content.decode()
    assert accepted["Location"] == "/accounts/signin/?username=bob"


# --- recent sign-in activity --------------------------------------------------------------------


def test_the_activity_page_needs_a_signed_in_user(emulator: Any, client: Client) -> None:
    response = client.get("/accounts/activity/")

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_profile_links_to_recent_sign_in_activity(
    emulator: Any, client: Client, api_signed_in: Any
) -> None:
    api_signed_in("bob")

    assert 'href="/accounts/activity/"' in client.get("/accounts/profile/").content.decode()


def test_activity_lists_each_sign_in_with_address_risk_and_outcome(
    emulator: Any, client: Client
) -> None:
    api_signin(client, "bob", REMOTE_ADDR=RISKY)  # High risk: an email code
    client.post(
        "/accounts/signin/mfa/",
        {"attempt": attempt_id(client), "code": inbox_code(emulator, "bob@example.com")},
        REMOTE_ADDR=RISKY,
    )
    api_signin(Client(), "bob", "Not-The-Passw0rd!", REMOTE_ADDR="192.0.2.44")

    page = client.get("/accounts/activity/")

    body = page.content.decode()
    assert page.status_code == 200
    assert body.count('data-testid="auth-event"') == 2
    assert [e.address for e in page.context["events"]] == ["192.0.2.44", RISKY]
    assert [e.outcome for e in page.context["events"]] == ["Fail", "Pass"]
    assert page.context["events"][1].risk == "High" and "High" in body
    assert 'data-testid="feedback-valid"' in body and 'data-testid="feedback-invalid"' in body


@pytest.mark.parametrize(("answer", "value"), [("valid", "Valid"), ("invalid", "Invalid")])
def test_feedback_on_an_event_is_recorded(
    emulator: Any, client: Client, answer: str, value: str
) -> None:
    signed_in_from(client, "bob", "192.0.2.10")
    event_id = events_of("bob")[0]["EventId"]

    response = client.post("/accounts/activity/", {"event": event_id, "feedback": answer})

    assert response.status_code == 302 and response["Location"] == "/accounts/activity/"
    assert events_of("bob")[0]["EventFeedback"]["FeedbackValue"] == value
    page = client.get("/accounts/activity/").content.decode()
    assert 'data-testid="feedback-valid"' not in page  # answered once


def test_feedback_needs_a_known_answer(emulator: Any, client: Client) -> None:
    signed_in_from(client, "bob", "192.0.2.10")
    event_id = events_of("bob")[0]["EventId"]

    response = client.post("/accounts/activity/", {"event": event_id, "feedback": "maybe"})

    assert response.status_code == 400
    assert "EventFeedback" not in events_of("bob")[0]


def test_nothing_about_another_users_events_is_visible_or_changeable(
    emulator: Any, client: Client
) -> None:
    erin = api_signin(Client(), "erin", REMOTE_ADDR="192.0.2.77")  # her event, at the code step
    assert erin["Location"] == "/accounts/signin/mfa/"
    signed_in_from(client, "bob", "192.0.2.10")
    erins = events_of("erin")[0]["EventId"]

    page = client.get("/accounts/activity/", {"username": "erin"}).content.decode()
    tried = client.post(
        "/accounts/activity/", {"event": erins, "feedback": "invalid", "username": "erin"}
    )

    assert "192.0.2.77" not in page and erins not in page
    assert tried.status_code == 400 and failure(tried) == "not_found"
    assert "EventFeedback" not in events_of("erin")[0]


def test_re_entering_a_password_found_leaked_says_so(
    emulator: Any, client: Client, api_signed_in: Any
) -> None:
    api_signed_in("bob")
    accepted = client.post("/accounts/reauthenticate/", {"password": USERS["bob"].password})
    aws.client("cognito-idp").admin_set_user_password(
        UserPoolId=seed.USER_POOL_ID, Username="bob", Password=LEAKED, Permanent=True
    )

    refused = client.post("/accounts/reauthenticate/", {"password": LEAKED})

    assert accepted.status_code == 302
    assert refused.status_code == 400 and failure(refused) == "password_compromised"
    assert "appeared in a data breach" in refused.content.decode()
