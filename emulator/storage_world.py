"""The identity pool's side of the demo world: roles, the identity pool, groups, the bucket.

The roles follow the shapes AWS documents for identity pools (cognito-facts 6.4, 6.5): trust
policies that require the pool as `aud` and the right `amr`, least-privilege S3 policies where
`${cognito-identity.amazonaws.com:sub}` (the identity ID) scopes each user to their own folder,
and a guest role that reads `public/` only.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from emulator import iam, seed
from emulator.identity import identity_id_for, user_pool_provider
from emulator.world import user_sub

if TYPE_CHECKING:
    from emulator.state import EmulatorState

SUB = "${cognito-identity.amazonaws.com:sub}"
BUCKET_ARN = f"arn:aws:s3:::{seed.BUCKET}"


def trust_policy(amr: str) -> dict[str, Any]:
    """Only this identity pool's tokens, and only with this `amr`, may assume the role."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": "cognito-identity.amazonaws.com"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {"cognito-identity.amazonaws.com:aud": seed.IDENTITY_POOL_ID},
                    "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": amr},
                },
            }
        ],
    }


def _list(prefixes: list[str]) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": BUCKET_ARN,
        "Condition": {"StringLike": {"s3:prefix": prefixes}},
    }


def authenticated_policy(*, write: bool) -> dict[str, Any]:
    """Read public/ and protected/, read (and with `write`, change) private/<own identity>/."""
    statements: list[dict[str, Any]] = [
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": [
                f"{BUCKET_ARN}/public/*",
                f"{BUCKET_ARN}/protected/*",
                f"{BUCKET_ARN}/private/{SUB}/*",
            ],
        },
        _list(
            [
                "public/",
                "public/*",
                "protected/",
                "protected/*",
                f"private/{SUB}/",
                f"private/{SUB}/*",
            ]
        ),
    ]
    if write:
        statements.append(
            {
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:DeleteObject"],
                "Resource": [f"{BUCKET_ARN}/private/{SUB}/*", f"{BUCKET_ARN}/protected/{SUB}/*"],
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def guest_policy() -> dict[str, Any]:
    """Guests read public/ and nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET_ARN}/public/*"},
            _list(["public/", "public/*"]),
        ],
    }


ROLES = (
    (seed.AUTHENTICATED_ROLE, "authenticated", authenticated_policy(write=True)),
    (seed.READ_ONLY_ROLE, "authenticated", authenticated_policy(write=False)),
    (seed.GUEST_ROLE, "unauthenticated", guest_policy()),
)


def demo_identity_id(username: str) -> str:
    """The identity ID a demo user gets from the identity pool (deterministic)."""
    return identity_id_for(
        seed.IDENTITY_POOL_ID, user_pool_provider(seed.USER_POOL_ID), user_sub(username)
    )


def demo_objects() -> dict[str, bytes]:
    """The bucket's seed: public files, a protected file, and each demo user's private notes."""
    objects = {
        "public/welcome.txt": b"Welcome! Everyone, guests included, can read public/.\n",
        "public/guide.txt": b"Files under public/ are readable by any identity of the pool.\n",
        "protected/team-notes.txt": b"Signed-in users read protected/; guests do not.\n",
    }
    for user in seed.DEMO_USERS:
        identity_id = demo_identity_id(user.username)
        objects[f"private/{identity_id}/{user.username}-notes.txt"] = (
            f"Private notes of {user.username}: only {user.username} can read this.\n".encode()
        )
    return objects


def provision(state: EmulatorState) -> None:
    """Reset moto's IAM, STS, S3 and identity pools for the demo account and seed them."""
    from moto.cognitoidentity.models import cognitoidentity_backends
    from moto.s3.models import s3_backends
    from moto.sts.models import sts_backends

    iam_backend = iam.iam_backend()
    s3 = s3_backends[seed.ACCOUNT_ID]["aws"]
    identities = cognitoidentity_backends[seed.ACCOUNT_ID][seed.REGION]
    for backend in (iam_backend, s3, identities, sts_backends[seed.ACCOUNT_ID]["aws"]):
        backend.reset()

    for arn, amr, policy in ROLES:
        name = arn.rsplit("/", 1)[-1]
        iam_backend.create_role(name, json.dumps(trust_policy(amr)), "/", None, "", [], None)
        iam_backend.put_role_policy(name, f"{name}-s3", json.dumps(policy))

    provider = user_pool_provider(seed.USER_POOL_ID)
    identities.create_identity_pool(
        identity_pool_name=seed.IDENTITY_POOL_NAME,
        allow_unauthenticated_identities=True,
        supported_login_providers={},
        developer_provider_name=seed.DEVELOPER_PROVIDER_NAME,
        open_id_connect_provider_arns=[],
        cognito_identity_providers=[
            {"ProviderName": provider, "ClientId": seed.CLIENT_ID, "ServerSideTokenCheck": False}
        ],
        saml_provider_arns=[],
        tags={},
    )
    # moto picks a random pool ID: re-key it to the seed's as world.py does the user pool's.
    (pool_id, pool), *_ = identities.identity_pools.items()
    del identities.identity_pools[pool_id]
    identities.pools_identities.pop(pool_id, None)
    pool.identity_pool_id = seed.IDENTITY_POOL_ID
    identities.identity_pools[seed.IDENTITY_POOL_ID] = pool
    identities.pools_identities[seed.IDENTITY_POOL_ID] = {
        "IdentityPoolId": seed.IDENTITY_POOL_ID,
        "Identities": [],
    }
    with state.identities.lock:
        state.identities.classic_flow[seed.IDENTITY_POOL_ID] = True
        state.identities.roles[seed.IDENTITY_POOL_ID] = {
            "Roles": {"authenticated": seed.AUTHENTICATED_ROLE, "unauthenticated": seed.GUEST_ROLE},
            # Token-based: a group's role when the user has one, else the authenticated role.
            "RoleMappings": {
                f"{provider}:{seed.CLIENT_ID}": {
                    "Type": "Token",
                    "AmbiguousRoleResolution": "AuthenticatedRole",
                }
            },
        }

    for group, role_arn, precedence, members in seed.GROUPS:
        state.backend.create_group(seed.USER_POOL_ID, group, "", role_arn, precedence)
        for username in members:
            state.backend.admin_add_user_to_group(seed.USER_POOL_ID, group, username)

    s3.create_bucket(seed.BUCKET, seed.REGION)
    for key, body in demo_objects().items():
        s3.put_object(seed.BUCKET, key, body)
