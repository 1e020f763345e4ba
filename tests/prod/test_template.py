"""deploy/cognito-app.yaml: valid for CloudFormation (cfn-lint, offline), and the same settings as
the emulator's seed: the live emulator's answers (DescribeUserPool, DescribeUserPoolClient, groups,
the identity pool and its roles) and the seed's IAM policies, compared with the template's, where
every intrinsic function is resolved with the seed's names."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.decode import cfn_yaml
from django.urls import reverse

from deploy import outputs_to_env
from emulator import seed, storage_world

ROOT = Path(__file__).resolve().parent.parent.parent
TEMPLATE = ROOT / "deploy" / "cognito-app.yaml"
CFN_LINT = str(Path(sys.executable).parent / "cfn-lint")
APP_URL = "https://app.example.com"

# Where the template deliberately differs from the demo's seed, and why. Nothing else may.
DIFFERENCES = {
    # The app refreshes with GetTokensFromRefreshToken and keeps the rotated token
    # (tests/signin/test_api_refresh_and_errors.py turns rotation on); the demo client keeps
    # it off because the emulator's own tests exercise REFRESH_TOKEN_AUTH, which rotation forbids.
    "client RefreshTokenRotation": ({"Feature": "ENABLED", "RetryGracePeriodSeconds": 10}, None),
    # Production refuses ID tokens of users signed out everywhere or deleted at GetId.
    "identity pool ServerSideTokenCheck": (True, False),
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return cfn_yaml.load(str(TEMPLATE))


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {
        name: resource.get("Properties", {})
        for name, resource in template["Resources"].items()
        if resource["Type"] == kind
    }


# The seed's values for the template's references.
REFS = {
    "AppUrl": APP_URL,
    "ProtectedBucket": seed.BUCKET,
    "ProtectedBucket.Arn": storage_world.BUCKET_ARN,
    "IdentityPool": seed.IDENTITY_POOL_ID,
    "UserPool": seed.USER_POOL_ID,
    "WebClient": seed.CLIENT_ID,
    "AWS::Region": seed.REGION,
    "AWS::Partition": "aws",
    "AWS::AccountId": seed.ACCOUNT_ID,
    "AuthenticatedRole.Arn": seed.AUTHENTICATED_ROLE,
    "ReadOnlyRole.Arn": seed.READ_ONLY_ROLE,
    "GuestRole.Arn": seed.GUEST_ROLE,
    "UserPool.ProviderName": f"cognito-idp.{seed.REGION}.amazonaws.com/{seed.USER_POOL_ID}",
}


def resolve(node: Any) -> Any:
    """The template's value with Ref, Fn::GetAtt and Fn::Sub replaced by the seed's names."""
    if isinstance(node, dict):
        if set(node) == {"Ref"}:
            return REFS[node["Ref"]]
        if set(node) == {"Fn::GetAtt"}:
            return REFS[".".join(node["Fn::GetAtt"])]
        if set(node) == {"Fn::Sub"}:
            return re.sub(
                r"\$\{(!?)([^}]+)\}",
                lambda m: "${" + m[2] + "}" if m[1] else REFS[m[2]],
                node["Fn::Sub"],
            )
        return {key: resolve(value) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(item) for item in node]
    return node


@pytest.fixture
def aws(emulator: Any) -> dict[str, Any]:
    def client(name: str) -> Any:
        return boto3.client(
            name,
            endpoint_url=emulator.url,
            region_name=seed.REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return {"idp": client("cognito-idp"), "identity": client("cognito-identity")}


# --- cfn-lint -------------------------------------------------------------------------------------


def lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CFN_LINT, "--", str(path)], capture_output=True, text=True, timeout=120)


def test_cfn_lint_finds_no_error_and_no_warning_in_the_template() -> None:
    result = lint(TEMPLATE)

    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_does_find_a_broken_copy(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        TEMPLATE.read_text().replace(
            "PreventUserExistenceErrors: ENABLED", "PreventUserExistenceErrors: SOMETIMES"
        )
    )

    result = lint(broken)

    assert result.returncode != 0 and "SOMETIMES" in result.stdout


# --- parity with the seed -------------------------------------------------------------------------

CLIENT_SETTINGS = (
    "ExplicitAuthFlows",
    "AllowedOAuthFlows",
    "AllowedOAuthFlowsUserPoolClient",
    "AllowedOAuthScopes",
    "EnableTokenRevocation",
    "PreventUserExistenceErrors",
    "AccessTokenValidity",
    "IdTokenValidity",
    "RefreshTokenValidity",
    "TokenValidityUnits",
)


def test_the_web_client_has_the_demo_clients_flows_scopes_and_token_lifetimes(
    template: dict[str, Any], aws: dict[str, Any]
) -> None:
    client = resources(template, "AWS::Cognito::UserPoolClient")["WebClient"]
    demo = aws["idp"].describe_user_pool_client(
        UserPoolId=seed.USER_POOL_ID, ClientId=seed.CLIENT_ID
    )["UserPoolClient"]

    for name in CLIENT_SETTINGS:
        assert resolve(client[name]) == demo[name], name
    # The demo's own federated identity providers (emulator/federation.py) are not made here: a
    # real IdP needs its own AWS::Cognito::UserPoolIdentityProvider and credentials.
    federated = {
        idp["ProviderName"]
        for idp in aws["idp"].list_identity_providers(UserPoolId=seed.USER_POOL_ID)["Providers"]
    }
    assert client["SupportedIdentityProviders"] == [
        name for name in demo["SupportedIdentityProviders"] if name not in federated
    ]
    assert client["GenerateSecret"] is True and demo["ClientSecret"]
    assert client.get("AuthSessionValidity", 3) == demo.get("AuthSessionValidity", 3)
    template_rotation, demo_rotation = DIFFERENCES["client RefreshTokenRotation"]
    assert client["RefreshTokenRotation"] == template_rotation
    assert demo.get("RefreshTokenRotation") == demo_rotation


def test_the_clients_urls_are_the_apps_callback_and_sign_out_return(
    template: dict[str, Any],
) -> None:
    client = resources(template, "AWS::Cognito::UserPoolClient")["WebClient"]

    # The app's redirect_uri is APP_URL + the callback's path; it signs out back to APP_URL/.
    assert resolve(client["CallbackURLs"]) == [APP_URL + reverse("accounts:callback")]
    assert resolve(client["LogoutURLs"]) == [APP_URL + reverse("home")]


@pytest.mark.parametrize(
    ("resource", "client_id"),
    [("MachineClient", seed.MACHINE_CLIENT_ID), ("PublicClient", seed.PUBLIC_CLIENT_ID)],
)
def test_the_machine_and_public_clients_have_the_demo_clients_grants_and_scopes(
    template: dict[str, Any], aws: dict[str, Any], resource: str, client_id: str
) -> None:
    client = resources(template, "AWS::Cognito::UserPoolClient")[resource]
    demo = aws["idp"].describe_user_pool_client(UserPoolId=seed.USER_POOL_ID, ClientId=client_id)[
        "UserPoolClient"
    ]

    assert sorted(client["ExplicitAuthFlows"]) == sorted(demo["ExplicitAuthFlows"])
    assert client.get("AllowedOAuthFlows", []) == demo.get("AllowedOAuthFlows", [])
    assert client.get("AllowedOAuthScopes", []) == demo.get("AllowedOAuthScopes", [])
    assert client["GenerateSecret"] is bool(demo.get("ClientSecret"))


def test_the_resource_server_has_the_demo_pools_scopes(
    template: dict[str, Any], aws: dict[str, Any]
) -> None:
    (server,) = resources(template, "AWS::Cognito::UserPoolResourceServer").values()
    demo = aws["idp"].describe_resource_server(
        UserPoolId=seed.USER_POOL_ID, Identifier=seed.RESOURCE_SERVER_ID
    )["ResourceServer"]

    assert server["Identifier"] == demo["Identifier"]
    assert server["Scopes"] == demo["Scopes"]


def test_the_pool_has_the_demo_pools_password_policy_mfa_and_verification(
    template: dict[str, Any], aws: dict[str, Any]
) -> None:
    (pool,) = resources(template, "AWS::Cognito::UserPool").values()
    demo = aws["idp"].describe_user_pool(UserPoolId=seed.USER_POOL_ID)["UserPool"]
    mfa = aws["idp"].get_user_pool_mfa_config(UserPoolId=seed.USER_POOL_ID)

    policy = dict(pool["Policies"]["PasswordPolicy"])
    # 7 days is Cognito's default, which the seed leaves in place.
    assert policy.pop("TemporaryPasswordValidityDays") == 7
    demo_policy = dict(demo["Policies"]["PasswordPolicy"])
    assert demo_policy.pop("TemporaryPasswordValidityDays", 7) == 7
    assert policy == {k: v for k, v in demo_policy.items() if k in policy} and len(policy) == 5
    assert pool["MfaConfiguration"] == demo["MfaConfiguration"] == mfa["MfaConfiguration"]
    assert pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert mfa["SoftwareTokenMfaConfiguration"]["Enabled"] is True
    assert "SmsMfaConfiguration" not in mfa
    assert pool["AutoVerifiedAttributes"] == demo["AutoVerifiedAttributes"]
    assert pool["UserAttributeUpdateSettings"] == demo["UserAttributeUpdateSettings"]
    # "Bob" signs in as bob on AWS and in the emulator alike.
    assert (
        pool["UsernameConfiguration"] == demo["UsernameConfiguration"] == {"CaseSensitive": False}
    )


def test_the_groups_carry_the_demo_groups_roles_and_precedence(template: dict[str, Any]) -> None:
    groups = {
        props["GroupName"]: (resolve(props["RoleArn"]), props["Precedence"])
        for props in resources(template, "AWS::Cognito::UserPoolGroup").values()
    }

    assert groups == {name: (role, precedence) for name, role, precedence, _ in seed.GROUPS}


def test_the_identity_pool_and_its_role_mapping_are_the_demos(
    template: dict[str, Any], aws: dict[str, Any]
) -> None:
    (pool,) = resources(template, "AWS::Cognito::IdentityPool").values()
    (attachment,) = resources(template, "AWS::Cognito::IdentityPoolRoleAttachment").values()
    demo = aws["identity"].describe_identity_pool(IdentityPoolId=seed.IDENTITY_POOL_ID)
    demo_roles = aws["identity"].get_identity_pool_roles(IdentityPoolId=seed.IDENTITY_POOL_ID)

    (provider,) = pool["CognitoIdentityProviders"]
    (demo_provider,) = demo["CognitoIdentityProviders"]
    assert resolve(provider["ProviderName"]) == demo_provider["ProviderName"]
    assert resolve(provider["ClientId"]) == demo_provider["ClientId"]
    assert (provider["ServerSideTokenCheck"], demo_provider["ServerSideTokenCheck"]) == (
        DIFFERENCES["identity pool ServerSideTokenCheck"]
    )
    # Guests: a parameter, whose default is the demo's.
    guests = template["Parameters"]["AllowGuestAccess"]["Default"] == "true"
    assert guests == demo["AllowUnauthenticatedIdentities"]
    assert pool["AllowClassicFlow"] is True
    assert "DeveloperProviderName" in pool and demo["DeveloperProviderName"]

    roles = attachment["Roles"]
    assert resolve(roles["authenticated"]) == demo_roles["Roles"]["authenticated"]
    assert roles["unauthenticated"]["Fn::If"][1] == {"Fn::GetAtt": ["GuestRole", "Arn"]}
    assert REFS["GuestRole.Arn"] == demo_roles["Roles"]["unauthenticated"]
    (mapping,) = attachment["RoleMappings"].values()
    (demo_key, demo_mapping), *_ = demo_roles["RoleMappings"].items()
    assert resolve(mapping["IdentityProvider"]) == demo_key
    assert {k: v for k, v in mapping.items() if k != "IdentityProvider"} == {
        k: v for k, v in demo_mapping.items() if k != "RulesConfiguration"
    }


ROLE_OF = {
    seed.AUTHENTICATED_ROLE: "AuthenticatedRole",
    seed.READ_ONLY_ROLE: "ReadOnlyRole",
    seed.GUEST_ROLE: "GuestRole",
}


@pytest.mark.parametrize("arn,amr,policy", storage_world.ROLES, ids=lambda v: str(v)[-30:])
def test_each_role_has_the_seeds_trust_and_s3_policy_exactly(
    template: dict[str, Any], arn: str, amr: str, policy: dict[str, Any]
) -> None:
    role = template["Resources"][ROLE_OF[arn]]["Properties"]
    (inline,) = role["Policies"]

    assert resolve(role["AssumeRolePolicyDocument"]) == storage_world.trust_policy(amr)
    assert resolve(inline["PolicyDocument"]) == policy


def test_a_changed_policy_is_caught(template: dict[str, Any]) -> None:
    """The twin: one more action in the template's guest policy no longer equals the seed's."""
    role = json.loads(json.dumps(template["Resources"]["GuestRole"]["Properties"]))
    role["Policies"][0]["PolicyDocument"]["Statement"][0]["Action"] = [
        "s3:GetObject",
        "s3:PutObject",
    ]

    assert resolve(role["Policies"][0]["PolicyDocument"]) != storage_world.guest_policy()


# --- outputs and the .env ----------------------------------------------------------------------


def test_every_output_but_the_policy_is_an_environment_variable_of_the_app(
    template: dict[str, Any],
) -> None:
    names = {outputs_to_env.env_name(key) for key in template["Outputs"]}

    assert names - outputs_to_env.known_names() == {"APP_SERVER_POLICY_ARN"}
    for key, output in template["Outputs"].items():
        assert output["Description"].startswith(outputs_to_env.env_name(key)) or key.endswith("Arn")


def test_outputs_to_env_writes_a_env_the_settings_accept() -> None:
    outputs = [
        {"OutputKey": "AppUrl", "OutputValue": APP_URL},
        {"OutputKey": "DjangoAllowedHosts", "OutputValue": "app.example.com"},
        {"OutputKey": "AwsRegion", "OutputValue": "eu-west-1"},
        {"OutputKey": "CognitoUserPoolId", "OutputValue": "eu-west-1_AbCdEf123"},
        {"OutputKey": "CognitoClientId", "OutputValue": "1example23456789abcdefghij"},
        {"OutputKey": "CognitoDomain", "OutputValue": "https://x.auth.eu-west-1.amazoncognito.com"},
        {"OutputKey": "AppServerPolicyArn", "OutputValue": "arn:aws:iam::1:policy/p"},
    ]
    written = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "outputs_to_env.py")],
        input=json.dumps({"Stacks": [{"Outputs": outputs}]}),
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    assert "COGNITO_USER_POOL_ID=eu-west-1_AbCdEf123\n" in written
    assert "DJANGO_ALLOWED_HOSTS=app.example.com\n" in written
    assert re.search(r"^DJANGO_SECRET_KEY=\S{50,}$", written, re.MULTILINE)
    assert "\nAPP_SERVER_POLICY_ARN=" not in written
    assert "# Output APP_SERVER_POLICY_ARN (not an environment variable)" in written
    # The production settings load from exactly these variables.
    env = dict(line.split("=", 1) for line in written.splitlines() if line[:1].isalpha())
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s;"
            "print(s.COGNITO_ISSUER, s.ALLOWED_HOSTS)",
        ],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
    )
    assert check.stdout.strip() == (
        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123 ['app.example.com']"
    ), check.stderr


def test_devices_passkeys_and_first_factors_follow_the_demo_pool(
    template: dict[str, Any], aws: dict[str, Any]
) -> None:
    (pool,) = resources(template, "AWS::Cognito::UserPool").values()
    demo = aws["idp"].describe_user_pool(UserPoolId=seed.USER_POOL_ID)["UserPool"]

    assert pool["DeviceConfiguration"] == demo["DeviceConfiguration"]
    assert pool["WebAuthnUserVerification"] == seed.WEBAUTHN_USER_VERIFICATION
    # The demo adds the code factors, which need SES and SNS on AWS (see the template).
    factors = pool["Policies"]["SignInPolicy"]["AllowedFirstAuthFactors"]
    assert set(factors) <= set(seed.FIRST_AUTH_FACTORS) and {"PASSWORD", "WEB_AUTHN"} <= set(
        factors
    )


def test_the_risk_configuration_is_the_demo_pools(
    template: dict[str, Any], aws: dict[str, Any]
) -> None:
    (risk,) = resources(template, "AWS::Cognito::UserPoolRiskConfigurationAttachment").values()
    demo = aws["idp"].describe_risk_configuration(UserPoolId=seed.USER_POOL_ID)["RiskConfiguration"]

    for name in ("CompromisedCredentialsRiskConfiguration", "AccountTakeoverRiskConfiguration"):
        assert risk[name] == demo[name] == seed.RISK_CONFIGURATION[name], name
