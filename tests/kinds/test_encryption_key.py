"""Encryption keys are report-only: `compare` (pure) turns every difference into an uncorrectable finding."""

from __future__ import annotations

from typing import Any

import pytest
from kinds_support import desired_project, world

from datacontrols.adminapi.external_keys import ExternalKey
from datacontrols.desired.encryption import EncryptionKey
from datacontrols.desired.schema import ProjectDefaults
from datacontrols.kinds.base import NOT_CREATED, NotExportable
from datacontrols.kinds.encryption_key import (
    KeyBinding,
    KeyFacts,
    ProjectEncryptionKey,
    compare_encryption_key,
    describe_binding,
)
from datacontrols.kinds.organization_retention import Unreadable
from datacontrols.plan import Change, FieldChange

KIND = ProjectEncryptionKey()


def key(
    name: str = "acme-prod", *, key_type: str = "aws", purpose: str | None = "ekm", key_id: str = "ekm_1"
) -> ExternalKey:
    return ExternalKey.model_validate(
        {
            "id": key_id,
            "object": "organization.external_key",
            "name": name,
            "type": key_type,
            "purpose": purpose,
            "api_project_ids": ["proj_1"],
            "workspace_id": "org-1",
            "created_at": 1,
            "kms_arn": "arn:aws:kms:eu-west-1:123456789012:key/abc",
        }
    )


def bound(live_key: ExternalKey | None = None, key_id: str = "ekm_1") -> KeyBinding:
    return KeyBinding(key_id=key_id, key=live_key)


NONE = KeyBinding(key_id=None)
PROD = EncryptionKey(name="acme-prod")


def plan(wanted: Any, observed: Any, **file: Any) -> list[Change]:
    return compare_encryption_key(desired_project(name="P", encryption_key=wanted, **file), observed)


def unmanaged(observed: Any) -> list[Change]:
    return compare_encryption_key(desired_project(name="P"), observed)


@pytest.mark.parametrize(
    ("wanted", "observed", "file"),
    [
        pytest.param(PROD, bound(key()), {}, id="the-named-key"),
        pytest.param(EncryptionKey(name="acme-prod", type="aws"), bound(key()), {}, id="name-and-type"),
        pytest.param(PROD, bound(key(purpose=None)), {}, id="purpose-not-given"),
        pytest.param("openai_managed", NONE, {}, id="openai-managed-and-none"),
        pytest.param("openai_managed", NOT_CREATED, {}, id="new-project-without-a-key"),
        pytest.param(PROD, NOT_CREATED, {"external_key_id": "ekm_1"}, id="new-project-bound-by-its-file"),
    ],
)
def test_no_finding(wanted: Any, observed: Any, file: dict[str, Any]) -> None:
    assert plan(wanted, observed, **file) == []


def test_not_managed_reads_nothing_into_anything() -> None:
    assert unmanaged(bound(None)) == []
    assert not KIND.manages(desired_project(name="P"))
    assert KIND.manages(desired_project(name="P", encryption_key=PROD))


@pytest.mark.parametrize(
    ("wanted", "observed", "fields", "severity", "subject", "says"),
    [
        pytest.param(
            PROD, NONE, {"name": FieldChange(None, "acme-prod")}, "critical", None, "OpenAI-managed keys", id="no-key"
        ),
        pytest.param(
            PROD,
            NOT_CREATED,
            {"name": FieldChange(None, "acme-prod")},
            "critical",
            None,
            "OpenAI-managed keys",
            id="new-project-without-the-key",
        ),
        pytest.param(
            PROD,
            bound(key("acme-dev", key_id="ekm_2"), "ekm_2"),
            {"name": FieldChange("acme-dev", "acme-prod")},
            "critical",
            "ekm_2",
            'protected by aws key "acme-dev" (ekm_2), not the desired "acme-prod"',
            id="another-key",
        ),
        pytest.param(
            EncryptionKey(name="acme-prod", type="gcp"),
            bound(key()),
            {"type": FieldChange("aws", "gcp")},
            "critical",
            "ekm_1",
            "not the desired",
            id="another-cloud",
        ),
        pytest.param(
            PROD,
            bound(None),
            {"name": FieldChange("ekm_1", "acme-prod")},
            "critical",
            "ekm_1",
            "which the organization does not have",
            id="key-removed",
        ),
        pytest.param(
            PROD,
            bound(key(purpose="psp_decryption")),
            {"purpose": FieldChange("psp_decryption", "ekm")},
            "critical",
            "ekm_1",
            "not a data-encryption key",
            id="not-an-ekm-key",
        ),
        pytest.param(
            "openai_managed",
            bound(key()),
            {"name": FieldChange("acme-prod", None)},
            "high",
            "ekm_1",
            "the desired state says openai_managed",
            id="a-key-where-none-is-wanted",
        ),
        pytest.param(
            "openai_managed",
            bound(None),
            {"name": FieldChange("ekm_1", None)},
            "high",
            "ekm_1",
            "does not have",
            id="a-removed-key-where-none-is-wanted",
        ),
    ],
)
def test_one_uncorrectable_finding(
    wanted: Any, observed: Any, fields: dict[str, FieldChange], severity: str, subject: str | None, says: str
) -> None:
    [change] = plan(wanted, observed)
    assert change.action == "uncorrectable" and not change.applies
    assert (change.fields, change.severity, change.subject) == (fields, severity, subject)
    assert says in change.reason
    assert "does not register, delete or rotate" in change.reason, "the reason says why the tool does not fix it"
    assert "`external_key_id`" in change.reason, "and the next thing to try"
    assert change.facts_as(KeyFacts).external_key_id == subject


def test_another_key_that_is_also_unusable_is_one_finding_with_both_reasons() -> None:
    [change] = plan(PROD, bound(key("other", purpose="psp_decryption")))
    assert set(change.fields) == {"name", "purpose"}
    assert "not the desired" in change.reason and "not a data-encryption key" in change.reason


def test_an_unreadable_key_is_reported_not_guessed() -> None:
    [change] = plan(PROD, Unreadable("could not read the project's encryption key: forbidden"))
    assert (change.action, change.severity) == ("report", "high")
    assert "forbidden" in change.reason


def test_the_binding_is_attributed_to_key_and_project_events() -> None:
    [change] = plan(PROD, bound(key("other", key_id="ekm_2"), "ekm_2"))
    facts = KeyFacts(external_key_id="ekm_2", project_id="proj_1")
    assert facts.resource_ids() == {"ekm_2", "proj_1"}
    assert KeyFacts(project_id="proj_1").resource_ids() == {"proj_1"}
    assert "project.updated" in KIND.audit_event_types and "external_key.removed" in KIND.audit_event_types
    assert change.facts_as(KeyFacts).external_key_id == "ekm_2"


def test_managed_from_project_defaults_unless_the_file_says_otherwise() -> None:
    defaults = ProjectDefaults(encryption_key=PROD)
    inherited = desired_project(defaults, name="P")
    [change] = KIND.compare(inherited, NONE, world())
    assert change.severity == "critical"
    own = desired_project(defaults, name="P", encryption_key="openai_managed")
    assert KIND.compare(own, NONE, world()) == []


@pytest.mark.parametrize(
    ("observed", "exported"),
    [
        pytest.param(bound(key()), {"encryption_key": {"name": "acme-prod", "type": "aws"}}, id="bound"),
        pytest.param(bound(key(key_type="hsm")), {"encryption_key": {"name": "acme-prod"}}, id="unknown-type"),
        pytest.param(NONE, None, id="no-key"),
    ],
)
def test_export_writes_what_compare_then_finds_equal(observed: Any, exported: Any) -> None:
    assert KIND.export(observed) == exported
    if exported is not None:
        setting = exported["encryption_key"]
        assert plan(EncryptionKey(**setting), observed) == []


@pytest.mark.parametrize(
    "observed", [bound(None), Unreadable("could not read: forbidden")], ids=["removed-key", "unreadable"]
)
def test_what_no_file_can_hold_is_not_exported(observed: Any) -> None:
    with pytest.raises(NotExportable):
        KIND.export(observed)


def test_describe_binding_says_which_key_and_whether_it_can_be_used() -> None:
    assert describe_binding(NONE) == "OpenAI-managed keys (no customer-managed key)"
    line = describe_binding(bound(key()))
    assert line == (
        'customer-managed aws key "acme-prod" (ekm_1) at arn:aws:kms:eu-west-1:123456789012:key/abc, purpose ekm'
    )
    assert "not a data-encryption (ekm) key" in describe_binding(bound(key(purpose="psp_decryption")))
    assert "does not have" in describe_binding(bound(None))


async def test_observe_reads_nothing_for_a_project_without_a_key() -> None:
    from datacontrols.adminapi.projects import Project

    class NoApi:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"read {name}")

    observed = await KIND.observe(NoApi(), Project(id="proj_1", name="P"))  # type: ignore[arg-type]
    assert observed == NONE


async def test_apply_refuses() -> None:
    [change] = plan(PROD, NONE)
    with pytest.raises(ValueError, match="report-only"):
        await KIND.apply(None, change, "proj_1")  # type: ignore[arg-type]
