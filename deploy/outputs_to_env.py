"""Turn a deployed stack's outputs into the app's `.env`.

    aws cloudformation describe-stacks --stack-name cognito-app \\
        --query 'Stacks[0].Outputs' --output json | python deploy/outputs_to_env.py > .env

Each output of deploy/cognito-app.yaml is one environment variable, named in CamelCase
(CognitoUserPoolId is COGNITO_USER_POOL_ID); outputs that name no variable of .env.example are
written as comments. A new DJANGO_SECRET_KEY is generated. The client secret is no output (anyone
who may describe the stack could read it): `--client-secret` reads it with boto3's
DescribeUserPoolClient, with the caller's AWS credentials, instead of leaving it to fill in.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / ".env.example"


def env_name(output_key: str) -> str:
    """CognitoUserPoolId -> COGNITO_USER_POOL_ID."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", output_key).upper()


def known_names() -> set[str]:
    """The variables .env.example documents (set or commented out)."""
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", EXAMPLE.read_text(), re.MULTILINE))


def outputs_of(document: object) -> list[dict[str, str]]:
    """The outputs list, from `--query 'Stacks[0].Outputs'` or the whole describe-stacks answer."""
    if isinstance(document, dict) and "Stacks" in document:
        document = document["Stacks"][0].get("Outputs", [])
    if not isinstance(document, list):
        raise SystemExit("expected describe-stacks JSON: the Outputs list or the whole answer")
    return document


def client_secret(values: dict[str, str]) -> str:
    import boto3

    idp = boto3.client("cognito-idp", region_name=values["AWS_REGION"])
    client = idp.describe_user_pool_client(
        UserPoolId=values["COGNITO_USER_POOL_ID"], ClientId=values["COGNITO_CLIENT_ID"]
    )
    return client["UserPoolClient"]["ClientSecret"]


def env_lines(outputs: list[dict[str, str]], *, secret: str | None = None) -> list[str]:
    known = known_names()
    values = {env_name(o["OutputKey"]): o["OutputValue"] for o in outputs}
    lines = [
        "# Written by deploy/outputs_to_env.py from the stack's outputs.",
        f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}",
    ]
    lines += [f"{name}={value}" for name, value in values.items() if name in known]
    if secret is not None:
        lines.append(f"COGNITO_CLIENT_SECRET={secret}")
    else:
        lines += [
            "# The client secret: deploy/outputs_to_env.py --client-secret, or",
            "# aws cognito-idp describe-user-pool-client --user-pool-id "
            f"{values.get('COGNITO_USER_POOL_ID', '...')} --client-id "
            f"{values.get('COGNITO_CLIENT_ID', '...')} --query UserPoolClient.ClientSecret",
            "COGNITO_CLIENT_SECRET=",
        ]
    lines += [
        "# A shared database and cache for several processes (docs/configuration.md):",
        "# DATABASE_URL=postgres://user:password@db.example.com:5432/cognito_app",
        "# CACHE_URL=redis://cache.example.com:6379/0",
    ]
    lines += [
        f"# Output {name} (not an environment variable): {value}"
        for name, value in values.items()
        if name not in known
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--client-secret",
        action="store_true",
        help="read the web client's secret with DescribeUserPoolClient (needs AWS credentials)",
    )
    args = parser.parse_args()
    outputs = outputs_of(json.load(sys.stdin))
    values = {env_name(o["OutputKey"]): o["OutputValue"] for o in outputs}
    secret = client_secret(values) if args.client_secret else None
    print("\n".join(env_lines(outputs, secret=secret)))


if __name__ == "__main__":
    main()
