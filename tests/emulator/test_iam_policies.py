"""The emulator's IAM policy evaluation: the parts identity-pool roles rely on."""

from __future__ import annotations

import pytest

from emulator.iam import evaluate

SUB = "${cognito-identity.amazonaws.com:sub}"
CONTEXT = {"cognito-identity.amazonaws.com:sub": "us-east-1:abc"}


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allowed(policies, action: str, resource: str, context=CONTEXT) -> bool:
    return evaluate(policies, action=action, resource=resource, context=context).allowed


OWN_FOLDER = policy(
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::b/private/{SUB}/*"}
)


def test_a_policy_variable_scopes_the_resource_to_the_identity() -> None:
    assert allowed([OWN_FOLDER], "s3:GetObject", "arn:aws:s3:::b/private/us-east-1:abc/f.txt")
    assert not allowed([OWN_FOLDER], "s3:GetObject", "arn:aws:s3:::b/private/us-east-1:xyz/f.txt")


def test_an_unresolved_variable_matches_nothing() -> None:
    assert not allowed([OWN_FOLDER], "s3:GetObject", "arn:aws:s3:::b/private/${x}/f", context={})


def test_no_allow_is_a_deny_and_an_explicit_deny_wins() -> None:
    allow_all = policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    deny_private = policy(
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/private/*"}
    )

    assert not allowed([], "s3:GetObject", "arn:aws:s3:::b/public/a")
    assert allowed([allow_all, deny_private], "s3:GetObject", "arn:aws:s3:::b/public/a")
    decision = evaluate(
        [allow_all, deny_private],
        action="s3:GetObject",
        resource="arn:aws:s3:::b/private/a",
        context={},
    )
    assert not decision.allowed and decision.explicit_deny


@pytest.mark.parametrize(
    ("prefix", "ok"),
    [
        ("public/", True),
        ("public/sub/", True),
        ("private/us-east-1:abc/", True),
        ("private/us-east-1:xyz/", False),
        ("", False),
        (None, False),
    ],
)
def test_string_like_on_the_s3_prefix(prefix: str | None, ok: bool) -> None:
    listing = policy(
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": "arn:aws:s3:::b",
            "Condition": {"StringLike": {"s3:prefix": ["public/", "public/*", f"private/{SUB}/"]}},
        }
    )
    context = {**CONTEXT, **({"s3:prefix": prefix} if prefix is not None else {})}

    assert allowed([listing], "s3:ListBucket", "arn:aws:s3:::b", context) is ok


def test_actions_match_case_insensitively_with_wildcards_and_not_action() -> None:
    reads = policy({"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"})
    all_but_delete = policy({"Effect": "Allow", "NotAction": "s3:DeleteObject", "Resource": "*"})

    assert allowed([reads], "s3:getobject", "arn:aws:s3:::b/a")
    assert not allowed([reads], "s3:PutObject", "arn:aws:s3:::b/a")
    assert allowed([all_but_delete], "s3:PutObject", "arn:aws:s3:::b/a")
    assert not allowed([all_but_delete], "s3:DeleteObject", "arn:aws:s3:::b/a")


def test_trust_policy_conditions_on_aud_and_amr() -> None:
    trust = policy(
        {
            "Effect": "Allow",
            "Principal": {"Federated": "cognito-identity.amazonaws.com"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {"cognito-identity.amazonaws.com:aud": "pool"},
                "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"},
            },
        }
    )

    def may_assume(
        aud: str, amr: list[str], principal=("Federated", "cognito-identity.amazonaws.com")
    ):
        context = {
            "cognito-identity.amazonaws.com:aud": aud,
            "cognito-identity.amazonaws.com:amr": amr,
        }
        return evaluate(
            [trust],
            action="sts:AssumeRoleWithWebIdentity",
            resource="role",
            context=context,
            principal=principal,
        ).allowed

    assert may_assume("pool", ["authenticated", "cognito-idp..."])
    assert not may_assume("pool", ["unauthenticated"])
    assert not may_assume("other-pool", ["authenticated"])
    assert not may_assume("pool", ["authenticated"], principal=("Federated", "accounts.google.com"))
