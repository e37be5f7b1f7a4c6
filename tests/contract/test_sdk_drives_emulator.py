"""The official `openai` SDK drives the emulator, method by method, with strict response validation.

A fake that answers what our own client expects can still be wrong about the API; the SDK's generated types
are a second, independent reading of it (they cover endpoints the pinned spec lacks). Every admin method the
SDK has is either called here, in an order that builds what the next needs, or named in `NOT_EMULATED`
with the reason. Each call must reach a route the emulator serves (its request log shows the template and a
2xx) and its answer must parse as the SDK's type with `_strict_response_validation`.

The SDK is a dev dependency only; without it the module is skipped.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

import pytest

from datacontrols.demo import demo_seed_path
from datacontrols.emulator import Emulator
from testsupport.certificates import PEM

openai = pytest.importorskip("openai")
httpx2 = pytest.importorskip("httpx2")
AsyncAPIResource = pytest.importorskip("openai._resource").AsyncAPIResource

KEY: Final = "sk-admin-sdk-contract-0123456789abcdef"
SUPPORT: Final = "proj_DemoSupportBot00000000001"
SANDBOX: Final = "proj_DemoResearchSandbox000001"
CAROL: Final = "user-DemoCarol000000000001"
MALLORY: Final = "user-DemoMallory0000000001"
DATA_SCIENCE: Final = "group_DemoDataScience00001"
BOT: Final = "svc_acct_DemoSupportBotProd01"
ALERT: Final = {
    "threshold_amount": 250,
    "currency": "USD",
    "interval": "month",
    "notification_channel": {"type": "email", "recipients": ["alice@example.com"]},
}

# Admin methods of the SDK that the emulator does not serve, each with why. Kept short by design.
NOT_EMULATED: Final = {
    "usage": "usage and cost reports: not a data control, the tool never reads them",
    "health": "project health alert rules: not in the pinned spec and not a data control",
    "projects.health": "project health alert rules: not in the pinned spec and not a data control",
}

Ids = dict[str, str]


@dataclass(frozen=True)
class Step:
    method: str  # the SDK's path under client.admin.organization
    call: Callable[[Ids], dict[str, Any]]  # the keyword arguments, from the ids kept so far
    keep: Callable[[Any], Ids] = lambda answer: {}  # ids the later steps need


def first(answer: Any) -> Any:
    return answer.data[0]


# In order: each create comes before the calls on what it made; deletes come last.
STEPS: Final[tuple[Step, ...]] = (
    Step("data_retention.retrieve", lambda i: {}),
    Step("data_retention.update", lambda i: {"retention_type": "zero_data_retention"}),
    Step("spend_limit.update", lambda i: {"currency": "USD", "interval": "month", "threshold_amount": 5000}),
    Step("spend_limit.retrieve", lambda i: {}),
    Step("spend_alerts.create", lambda i: ALERT, lambda a: {"alert": a.id}),
    Step("spend_alerts.list", lambda i: {}),
    Step("spend_alerts.retrieve", lambda i: {"alert_id": i["alert"]}),
    Step("spend_alerts.update", lambda i: {"alert_id": i["alert"], **ALERT, "threshold_amount": 300}),
    Step("users.list", lambda i: {}),
    Step("users.retrieve", lambda i: {"user_id": CAROL}),
    Step("users.update", lambda i: {"user_id": CAROL, "role": "reader"}),
    Step("invites.create", lambda i: {"email": "dana@example.com", "role": "reader"}, lambda a: {"invite": a.id}),
    Step("invites.list", lambda i: {}),
    Step("invites.retrieve", lambda i: {"invite_id": i["invite"]}),
    Step("admin_api_keys.list", lambda i: {}),
    Step("admin_api_keys.create", lambda i: {"name": "spare"}, lambda a: {"admin_key": a.id}),
    Step("admin_api_keys.retrieve", lambda i: {"key_id": i["admin_key"]}),
    Step("audit_logs.list", lambda i: {"limit": 5}),
    Step(
        "roles.create",
        lambda i: {"role_name": "auditor", "permissions": ["api.organization.read"]},
        lambda a: {"role": a.id},
    ),
    Step("roles.list", lambda i: {}),
    Step("roles.retrieve", lambda i: {"role_id": i["role"]}),
    Step("roles.update", lambda i: {"role_id": i["role"], "description": "Reads the organization"}),
    Step("groups.create", lambda i: {"name": "security"}, lambda a: {"group": a.id}),
    Step("groups.list", lambda i: {}),
    Step("groups.retrieve", lambda i: {"group_id": i["group"]}),
    Step("groups.update", lambda i: {"group_id": i["group"], "name": "security-team"}),
    Step("groups.users.create", lambda i: {"group_id": i["group"], "user_id": CAROL}),
    Step("groups.users.list", lambda i: {"group_id": i["group"]}),
    Step("groups.users.retrieve", lambda i: {"group_id": i["group"], "user_id": CAROL}),
    Step("groups.roles.create", lambda i: {"group_id": i["group"], "role_id": i["role"]}),
    Step("groups.roles.list", lambda i: {"group_id": i["group"]}),
    Step("groups.roles.retrieve", lambda i: {"group_id": i["group"], "role_id": i["role"]}),
    Step("users.roles.create", lambda i: {"user_id": CAROL, "role_id": i["role"]}),
    Step("users.roles.list", lambda i: {"user_id": CAROL}),
    Step("users.roles.retrieve", lambda i: {"user_id": CAROL, "role_id": i["role"]}),
    Step("certificates.create", lambda i: {"certificate": PEM, "name": "corp-ca"}, lambda a: {"cert": a.id}),
    Step("certificates.list", lambda i: {}),
    Step("certificates.retrieve", lambda i: {"certificate_id": i["cert"], "include": ["content"]}),
    Step("certificates.update", lambda i: {"certificate_id": i["cert"], "name": "corp-root"}),
    Step("certificates.activate", lambda i: {"certificate_ids": [i["cert"]]}),
    Step("certificates.deactivate", lambda i: {"certificate_ids": [i["cert"]]}),
    Step("projects.list", lambda i: {}),
    Step("projects.create", lambda i: {"name": "SDK made"}, lambda a: {"project": a.id}),
    Step("projects.retrieve", lambda i: {"project_id": SUPPORT}),
    Step("projects.update", lambda i: {"project_id": i["project"], "name": "SDK renamed"}),
    Step("projects.data_retention.retrieve", lambda i: {"project_id": SUPPORT}),
    Step("projects.data_retention.update", lambda i: {"project_id": SUPPORT, "retention_type": "zero_data_retention"}),
    Step("projects.model_permissions.retrieve", lambda i: {"project_id": SANDBOX}),
    Step(
        "projects.model_permissions.update",
        lambda i: {"project_id": SUPPORT, "mode": "allow_list", "model_ids": ["gpt-4.1"]},
    ),
    Step("projects.model_permissions.delete", lambda i: {"project_id": SUPPORT}),
    Step("projects.hosted_tool_permissions.retrieve", lambda i: {"project_id": SUPPORT}),
    Step(
        "projects.hosted_tool_permissions.update", lambda i: {"project_id": SUPPORT, "web_search": {"enabled": False}}
    ),
    Step("projects.service_tier_settings.retrieve", lambda i: {"project_id": SUPPORT}),
    Step("projects.service_tier_settings.update", lambda i: {"project_id": SUPPORT, "default": "standard"}),
    Step("projects.rate_limits.list_rate_limits", lambda i: {"project_id": SUPPORT}, lambda a: {"limit": first(a).id}),
    Step(
        "projects.rate_limits.update_rate_limit",
        lambda i: {"project_id": SUPPORT, "rate_limit_id": i["limit"], "max_requests_per_1_minute": 100},
    ),
    Step(
        "projects.spend_limit.update",
        lambda i: {"project_id": SUPPORT, "currency": "USD", "interval": "month", "threshold_amount": 500},
    ),
    Step("projects.spend_limit.retrieve", lambda i: {"project_id": SUPPORT}),
    Step("projects.spend_alerts.create", lambda i: {"project_id": SUPPORT, **ALERT}, lambda a: {"project_alert": a.id}),
    Step("projects.spend_alerts.list", lambda i: {"project_id": SUPPORT}),
    Step("projects.spend_alerts.retrieve", lambda i: {"project_id": SUPPORT, "alert_id": i["project_alert"]}),
    Step("projects.spend_alerts.update", lambda i: {"project_id": SUPPORT, "alert_id": i["project_alert"], **ALERT}),
    Step("projects.users.list", lambda i: {"project_id": SUPPORT}),
    Step("projects.users.create", lambda i: {"project_id": SUPPORT, "user_id": CAROL, "role": "member"}),
    Step("projects.users.retrieve", lambda i: {"project_id": SUPPORT, "user_id": CAROL}),
    Step("projects.users.update", lambda i: {"project_id": SUPPORT, "user_id": CAROL, "role": "owner"}),
    Step(
        "projects.roles.create",
        lambda i: {
            "project_id": SUPPORT,
            "role_name": "rotator",
            "permissions": ["api.organization.projects.api_keys.write"],
        },
        lambda a: {"project_role": a.id},
    ),
    Step("projects.roles.list", lambda i: {"project_id": SUPPORT}),
    Step("projects.roles.retrieve", lambda i: {"project_id": SUPPORT, "role_id": i["project_role"]}),
    Step(
        "projects.roles.update",
        lambda i: {"project_id": SUPPORT, "role_id": i["project_role"], "description": "Rotates keys"},
    ),
    Step(
        "projects.users.roles.create", lambda i: {"project_id": SUPPORT, "user_id": CAROL, "role_id": i["project_role"]}
    ),
    Step("projects.users.roles.list", lambda i: {"project_id": SUPPORT, "user_id": CAROL}),
    Step(
        "projects.users.roles.retrieve",
        lambda i: {"project_id": SUPPORT, "user_id": CAROL, "role_id": i["project_role"]},
    ),
    Step(
        "projects.groups.create",
        lambda i: {"project_id": SUPPORT, "group_id": DATA_SCIENCE, "role": "role-api-project-member"},
    ),
    Step("projects.groups.list", lambda i: {"project_id": SUPPORT}),
    Step("projects.groups.retrieve", lambda i: {"project_id": SUPPORT, "group_id": DATA_SCIENCE}),
    Step(
        "projects.groups.roles.create",
        lambda i: {"project_id": SUPPORT, "group_id": DATA_SCIENCE, "role_id": i["project_role"]},
    ),
    Step("projects.groups.roles.list", lambda i: {"project_id": SUPPORT, "group_id": DATA_SCIENCE}),
    Step(
        "projects.groups.roles.retrieve",
        lambda i: {"project_id": SUPPORT, "group_id": DATA_SCIENCE, "role_id": i["project_role"]},
    ),
    Step("projects.certificates.activate", lambda i: {"project_id": SUPPORT, "certificate_ids": [i["cert"]]}),
    Step("projects.certificates.list", lambda i: {"project_id": SUPPORT}),
    Step("projects.certificates.deactivate", lambda i: {"project_id": SUPPORT, "certificate_ids": [i["cert"]]}),
    Step("projects.service_accounts.list", lambda i: {"project_id": SUPPORT}),
    Step(
        "projects.service_accounts.create", lambda i: {"project_id": SUPPORT, "name": "sdk-bot"}, lambda a: {"sa": a.id}
    ),
    Step("projects.service_accounts.retrieve", lambda i: {"project_id": SUPPORT, "service_account_id": i["sa"]}),
    Step(
        "projects.service_accounts.update",
        lambda i: {"project_id": SUPPORT, "service_account_id": i["sa"], "name": "sdk-bot-2"},
    ),
    Step(
        "projects.service_accounts.api_keys.create",
        lambda i: {"project_id": SUPPORT, "service_account_id": i["sa"], "name": "second"},
    ),
    Step("projects.api_keys.list", lambda i: {"project_id": SUPPORT}),
    Step("projects.api_keys.retrieve", lambda i: {"project_id": SUPPORT, "api_key_id": "key_DemoBobLaptop000000001"}),
    Step(
        "projects.api_keys.update",
        lambda i: {"project_id": SUPPORT, "api_key_id": "key_DemoBobLaptop000000001", "expires_in_seconds": 86400},
    ),
    Step(
        "external_keys.create",
        lambda i: {
            "name": "corp-kms",
            "type": "aws",
            "external_id": "corp-external-id",
            "kms_arn": "arn:aws:kms:eu-west-1:123456789012:key/abcd",
            "role_arn": "arn:aws:iam::123456789012:role/openai",
        },
        lambda a: {"external_key": a.id},
    ),
    Step("external_keys.list", lambda i: {}),
    Step("external_keys.retrieve", lambda i: {"external_key_id": i["external_key"]}),
    Step("external_keys.validate", lambda i: {"external_key_id": i["external_key"]}),
    Step(
        "external_storage.create",
        lambda i: {
            "project_id": SANDBOX,
            "provider": {"type": "aws", "bucket": "corp-data", "role_arn": "arn:aws:iam::1:role/x"},
        },
        lambda a: {"storage": a.id},
    ),
    Step("external_storage.list", lambda i: {}),
    Step("external_storage.retrieve", lambda i: {"external_storage_id": i["storage"]}),
    Step("external_storage.validate", lambda i: {"external_storage_id": i["storage"]}),
    Step(
        "workload_identity_providers.create",
        lambda i: {
            "name": "github",
            "type": "oidc",
            "issuer": "https://token.actions.githubusercontent.com",
            "audience": "openai",
        },
        lambda a: {"provider": a.id},
    ),
    Step("workload_identity_providers.list", lambda i: {}),
    Step("workload_identity_providers.retrieve", lambda i: {"workload_identity_provider_id": i["provider"]}),
    Step(
        "workload_identity_providers.update",
        lambda i: {"workload_identity_provider_id": i["provider"], "name": "github-actions"},
    ),
    Step(
        "workload_identity_providers.federation_rules.create",
        lambda i: {
            "workload_identity_provider_id": i["provider"],
            "project_id": SUPPORT,
            "service_account_id": BOT,
            "attribute_matchers": {"repository": "corp/app"},
        },
        lambda a: {"rule": a.id},
    ),
    Step(
        "workload_identity_providers.federation_rules.list", lambda i: {"workload_identity_provider_id": i["provider"]}
    ),
    Step(
        "workload_identity_providers.federation_rules.retrieve",
        lambda i: {"workload_identity_provider_id": i["provider"], "workload_identity_federation_rule_id": i["rule"]},
    ),
    Step(
        "workload_identity_providers.federation_rules.update",
        lambda i: {
            "workload_identity_provider_id": i["provider"],
            "workload_identity_federation_rule_id": i["rule"],
            "name": "app",
        },
    ),
    # --- deletes, each after everything that used what it removes
    Step(
        "workload_identity_providers.federation_rules.delete",
        lambda i: {"workload_identity_provider_id": i["provider"], "workload_identity_federation_rule_id": i["rule"]},
    ),
    Step("workload_identity_providers.delete", lambda i: {"workload_identity_provider_id": i["provider"]}),
    Step("external_storage.delete", lambda i: {"external_storage_id": i["storage"]}),
    Step("external_keys.delete", lambda i: {"external_key_id": i["external_key"]}),
    Step("projects.api_keys.delete", lambda i: {"project_id": SUPPORT, "api_key_id": "key_DemoMallory00000000001"}),
    Step("projects.service_accounts.delete", lambda i: {"project_id": SUPPORT, "service_account_id": i["sa"]}),
    Step(
        "projects.groups.roles.delete",
        lambda i: {"project_id": SUPPORT, "group_id": DATA_SCIENCE, "role_id": i["project_role"]},
    ),
    Step("projects.groups.delete", lambda i: {"project_id": SUPPORT, "group_id": DATA_SCIENCE}),
    Step(
        "projects.users.roles.delete", lambda i: {"project_id": SUPPORT, "user_id": CAROL, "role_id": i["project_role"]}
    ),
    Step("projects.roles.delete", lambda i: {"project_id": SUPPORT, "role_id": i["project_role"]}),
    Step("projects.users.delete", lambda i: {"project_id": SUPPORT, "user_id": CAROL}),
    Step("projects.spend_alerts.delete", lambda i: {"project_id": SUPPORT, "alert_id": i["project_alert"]}),
    Step("projects.spend_limit.delete", lambda i: {"project_id": SUPPORT}),
    Step("projects.archive", lambda i: {"project_id": i["project"]}),
    Step("certificates.delete", lambda i: {"certificate_id": i["cert"]}),
    Step("users.roles.delete", lambda i: {"user_id": CAROL, "role_id": i["role"]}),
    Step("groups.roles.delete", lambda i: {"group_id": i["group"], "role_id": i["role"]}),
    Step("groups.users.delete", lambda i: {"group_id": i["group"], "user_id": CAROL}),
    Step("groups.delete", lambda i: {"group_id": i["group"]}),
    Step("roles.delete", lambda i: {"role_id": i["role"]}),
    Step("admin_api_keys.delete", lambda i: {"key_id": i["admin_key"]}),
    Step("invites.delete", lambda i: {"invite_id": i["invite"]}),
    Step("spend_alerts.delete", lambda i: {"alert_id": i["alert"]}),
    Step("spend_limit.delete", lambda i: {}),
    Step("users.delete", lambda i: {"user_id": MALLORY}),
)


def sdk_methods(resource: Any, prefix: str = "") -> list[str]:
    """Every public method of the SDK's admin organization resources, as dotted paths."""
    found: list[str] = []
    for name in dir(resource):
        if name.startswith("_") or name in ("with_raw_response", "with_streaming_response"):
            continue
        value = getattr(resource, name)
        if isinstance(value, AsyncAPIResource):
            found += sdk_methods(value, f"{prefix}{name}.")
        elif inspect.ismethod(value):
            found.append(prefix + name)
    return found


def not_emulated(method: str) -> bool:
    return any(method == family or method.startswith(family + ".") for family in NOT_EMULATED)


def resolve(root: Any, method: str) -> Callable[..., Awaitable[Any]]:
    target = root
    for part in method.split("."):
        target = getattr(target, part)
    return target  # type: ignore[no-any-return]


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(admin_key=KEY, seed=demo_seed_path(), rng_seed=5)


@pytest.fixture
async def organization(emulator: Emulator) -> AsyncIterator[Any]:
    http = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=emulator.app))
    client = openai.AsyncOpenAI(
        api_key="unused",
        admin_api_key=KEY,
        base_url="https://api.openai.com/v1",
        http_client=http,
        max_retries=0,
        _strict_response_validation=True,
    )
    yield client.admin.organization
    await client.close()


def test_every_admin_method_of_the_sdk_is_driven_or_named(organization: Any) -> None:
    methods = sdk_methods(organization)
    driven = [step.method for step in STEPS]
    assert len(driven) == len(set(driven)), "each method is driven once"
    assert sorted(set(driven) - set(methods)) == [], "a step names a method the SDK does not have"
    assert sorted(m for m in methods if m not in driven and not not_emulated(m)) == []
    assert len(methods) > 100, "the walk found the SDK's resources"


async def test_the_sdk_drives_every_emulated_admin_method_without_a_validation_error(
    organization: Any, emulator: Emulator
) -> None:
    ids: Ids = {}
    failures: list[str] = []
    for step in STEPS:
        before = len(emulator.requests)
        try:
            answer = await resolve(organization, step.method)(**step.call(ids))
        except Exception as error:  # every failure is collected, then reported together
            failures.append(f"{step.method}: {type(error).__name__}: {str(error)[:300]}")
            continue
        served = list(emulator.requests)[before:]
        if len(served) != 1 or served[0].template is None or not 200 <= served[0].status < 300:
            failures.append(f"{step.method}: not one served 2xx exchange: {[(e.template, e.status) for e in served]}")
        ids.update(step.keep(answer))
    assert failures == [], "\n".join(failures)
