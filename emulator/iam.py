"""IAM policy evaluation, the part moto leaves out: Allow/Deny, wildcards, conditions, variables.

Enough of the IAM policy language for identity-pool roles: `Effect`, `Action`/`NotAction`,
`Resource`/`NotResource`, `Principal` (trust policies), and `Condition` with the String operators
(`StringEquals`, `StringNotEquals`, `StringLike`, `StringNotLike`, their `IfExists` forms and the
`ForAnyValue:`/`ForAllValues:` set prefixes). Policy variables such as
`${cognito-identity.amazonaws.com:sub}` are substituted from the request's context; a statement
whose variable has no value does not match, as on AWS. An explicit Deny wins; no Allow is a deny.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from emulator import seed

if TYPE_CHECKING:
    from moto.iam.models import IAMBackend, Role

ContextValue = str | Sequence[str]
_VARIABLE = re.compile(r"\$\{([^}]+)\}")


class _Unresolved(Exception):
    """A policy variable without a value in this request's context."""


@dataclass(frozen=True)
class Decision:
    """The outcome of an evaluation: allowed, and whether an explicit Deny decided it."""

    allowed: bool
    explicit_deny: bool = False


def iam_backend() -> IAMBackend:
    """moto's IAM backend for the demo account."""
    from moto.iam.models import iam_backends

    return iam_backends[seed.ACCOUNT_ID]["aws"]


def role_by_arn(role_arn: str) -> Role | None:
    """The IAM role with this ARN, or None."""
    from moto.iam.exceptions import NotFoundException

    try:
        return iam_backend().get_role_by_arn(role_arn)
    except NotFoundException:
        return None


def role_policies(role: Role) -> list[dict[str, Any]]:
    """The role's inline policies and the default versions of its attached managed policies."""
    documents = [_as_document(document) for document in role.policies.values()]
    for policy in role.managed_policies.values():
        version = next(v for v in policy.versions if v.is_default)
        documents.append(_as_document(version.document))
    return documents


def trust_policy(role: Role) -> dict[str, Any]:
    return _as_document(role.assume_role_policy_document)


def evaluate(
    policies: Iterable[Mapping[str, Any]],
    *,
    action: str,
    resource: str,
    context: Mapping[str, ContextValue],
    principal: tuple[str, str] | None = None,
) -> Decision:
    """Whether `policies` allow `action` on `resource` in `context` (explicit Deny wins)."""
    allowed = False
    for policy in policies:
        for statement in _statements(policy):
            if not _statement_applies(statement, action, resource, context, principal):
                continue
            if statement.get("Effect") == "Deny":
                return Decision(allowed=False, explicit_deny=True)
            if statement.get("Effect") == "Allow":
                allowed = True
    return Decision(allowed=allowed)


def _statements(policy: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = policy.get("Statement", [])
    return [statements] if isinstance(statements, Mapping) else list(statements)


def _statement_applies(
    statement: Mapping[str, Any],
    action: str,
    resource: str,
    context: Mapping[str, ContextValue],
    principal: tuple[str, str] | None,
) -> bool:
    try:
        if principal is not None and not _principal_matches(statement, principal):
            return False
        if "Action" in statement and not _any_match(statement["Action"], action, context, True):
            return False
        if "NotAction" in statement and _any_match(statement["NotAction"], action, context, True):
            return False
        if "Resource" in statement and not _any_match(statement["Resource"], resource, context):
            return False
        if "NotResource" in statement and _any_match(statement["NotResource"], resource, context):
            return False
        return _conditions_hold(statement.get("Condition", {}), context)
    except _Unresolved:
        return False


def _principal_matches(statement: Mapping[str, Any], principal: tuple[str, str]) -> bool:
    kind, name = principal
    declared = statement.get("Principal")
    if declared == "*":
        return True
    if not isinstance(declared, Mapping):
        return False
    values = declared.get(kind, [])
    return name in ([values] if isinstance(values, str) else values)


def _any_match(
    patterns: str | Sequence[str],
    value: str,
    context: Mapping[str, ContextValue],
    case_insensitive: bool = False,
) -> bool:
    for pattern in [patterns] if isinstance(patterns, str) else patterns:
        pattern = substitute(pattern, context)
        if case_insensitive:
            if fnmatchcase(value.lower(), _glob(pattern).lower()):
                return True
        elif fnmatchcase(value, _glob(pattern)):
            return True
    return False


def substitute(text: str, context: Mapping[str, ContextValue]) -> str:
    """`text` with each `${key}` replaced by the context's single value; `_Unresolved` if none."""

    def value_of(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in ("*", "?", "$"):  # ${*}, ${?}, ${$}: the literal characters
            return "[" + name + "]" if name != "$" else "$"
        value = context.get(name)
        if value is None or not isinstance(value, str):
            raise _Unresolved(name)
        return value

    return _VARIABLE.sub(value_of, text)


def _glob(pattern: str) -> str:
    """IAM wildcards (`*`, `?`) as fnmatch patterns: any other bracket is literal."""
    return re.sub(r"\[(?![*?]\])", "[[]", pattern)


_STRING_TESTS = {
    "StringEquals": lambda actual, expected: actual == expected,
    "StringNotEquals": lambda actual, expected: actual != expected,
    "StringEqualsIgnoreCase": lambda actual, expected: actual.lower() == expected.lower(),
    "StringLike": lambda actual, expected: fnmatchcase(actual, _glob(expected)),
    "StringNotLike": lambda actual, expected: not fnmatchcase(actual, _glob(expected)),
}
_NEGATED = {"StringNotEquals", "StringNotLike"}


def _conditions_hold(conditions: Mapping[str, Any], context: Mapping[str, ContextValue]) -> bool:
    for operator, tests in conditions.items():
        for key, expected in tests.items():
            if not _condition_holds(operator, key, expected, context):
                return False
    return True


def _condition_holds(
    operator: str, key: str, expected: Any, context: Mapping[str, ContextValue]
) -> bool:
    set_operator, _, name = operator.rpartition(":")
    if_exists = name.endswith("IfExists")
    name = name.removesuffix("IfExists")
    test = _STRING_TESTS.get(name)
    if test is None:
        return False  # an operator this emulator does not know never grants anything
    expected_values = [expected] if isinstance(expected, str) else list(expected)
    expected_values = [substitute(value, context) for value in expected_values]
    actual = context.get(key)
    if actual is None:
        return if_exists or (set_operator == "ForAllValues")
    actual_values = [actual] if isinstance(actual, str) else list(actual)

    def matches(value: str) -> bool:
        if name in _NEGATED:
            return all(test(value, wanted) for wanted in expected_values)
        return any(test(value, wanted) for wanted in expected_values)

    if set_operator == "ForAllValues":
        return all(matches(value) for value in actual_values)
    # Single-valued keys and ForAnyValue: one value that matches is enough.
    return any(matches(value) for value in actual_values)


def _as_document(document: Any) -> dict[str, Any]:
    if isinstance(document, str):
        text = document if document.lstrip().startswith("{") else unquote(document)
        return json.loads(text)
    return dict(document)
