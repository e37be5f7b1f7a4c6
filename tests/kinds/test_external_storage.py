"""External storage is report-only: `compare` (pure) turns every difference into an uncorrectable finding."""

from __future__ import annotations

from typing import Any

import pytest
from kinds_support import desired_project, world

from datacontrols.adminapi.external_storage import ExternalStorageConfiguration
from datacontrols.desired.schema import ProjectDefaults
from datacontrols.desired.storage import ExternalStorage
from datacontrols.kinds.base import NOT_CREATED, NotExportable
from datacontrols.kinds.external_storage import ProjectExternalStorage, StorageFacts, compare_external_storage
from datacontrols.kinds.organization_retention import Unreadable
from datacontrols.plan import FieldChange

KIND = ProjectExternalStorage()


def live(
    provider: str = "aws",
    *,
    location: str = "acme-eu",
    geography: str | None = "EU",
    status: str = "validated",
    storage_id: str = "extstore_1",
) -> ExternalStorageConfiguration:
    if provider == "azure":
        account, container = location.split("/")
        shape: dict[str, Any] = {"type": "azure", "account_name": account, "container": container}
    else:
        shape = {"type": provider, "bucket": location, "region": "eu-west-1"}
    return ExternalStorageConfiguration.model_validate(
        {"id": storage_id, "project_id": "proj_1", "provider": shape, "geography": geography, "status": status}
    )


def want(provider: str = "aws", **fields: str) -> ExternalStorage:
    return ExternalStorage(provider=provider, **fields)  # type: ignore[arg-type]


AWS_EU = want(geography="EU", location="acme-eu")


@pytest.mark.parametrize(
    ("wanted", "observed"),
    [
        pytest.param(None, (live(status="unhealthy"),), id="not-managed"),
        pytest.param(AWS_EU, (live(),), id="all-equal"),
        pytest.param(want(geography="eu", location="acme-eu"), (live(),), id="geography-any-case"),
        pytest.param(want(), (live(location="other", geography="US"),), id="provider-only"),
        pytest.param(want("azure", location="acme/openai"), (live("azure", location="acme/openai"),), id="azure"),
        pytest.param(AWS_EU, (live(status="pending"),), id="pending-is-not-drift"),
        pytest.param("none", (), id="none-and-none"),
    ],
)
def test_no_finding(wanted: Any, observed: Any) -> None:
    assert compare_external_storage("P", wanted, observed) == []


@pytest.mark.parametrize(
    ("wanted", "observed", "fields", "severity", "subject"),
    [
        pytest.param(
            AWS_EU,
            (),
            {
                "provider": FieldChange(None, "aws"),
                "location": FieldChange(None, "acme-eu"),
                "geography": FieldChange(None, "EU"),
            },
            "critical",
            None,
            id="missing",
        ),
        pytest.param(
            AWS_EU, NOT_CREATED, {**{n: FieldChange(None, v) for n, v in AWS_EU}}, "critical", None, id="new-project"
        ),
        pytest.param(
            AWS_EU,
            (live("gcp"),),
            {"provider": FieldChange("gcp", "aws")},
            "high",
            "extstore_1",
            id="other-provider",
        ),
        pytest.param(
            AWS_EU,
            (live(location="acme-us"),),
            {"location": FieldChange("acme-us", "acme-eu")},
            "high",
            "extstore_1",
            id="other-bucket",
        ),
        pytest.param(
            AWS_EU,
            (live(geography="US"),),
            {"geography": FieldChange("US", "EU")},
            "critical",
            "extstore_1",
            id="other-geography",
        ),
        pytest.param(
            want("azure", location="acme/openai"),
            (live("azure", location="acme/other"),),
            {"location": FieldChange("acme/other", "acme/openai")},
            "high",
            "extstore_1",
            id="azure-container",
        ),
        pytest.param(
            AWS_EU,
            (live(status="unhealthy"),),
            {"status": FieldChange("unhealthy", "validated")},
            "critical",
            "extstore_1",
            id="unhealthy",
        ),
        pytest.param(
            want(),
            (live(status="degraded"),),
            {"status": FieldChange("degraded", "validated")},
            "critical",
            "extstore_1",
            id="degraded",
        ),
        pytest.param(
            AWS_EU,
            (live(location="x", status="unhealthy"),),
            {"location": FieldChange("x", "acme-eu"), "status": FieldChange("unhealthy", "validated")},
            "critical",
            "extstore_1",
            id="mismatch-and-unhealthy-in-one",
        ),
        pytest.param(
            "none", (live(),), {"provider": FieldChange("aws", None)}, "high", "extstore_1", id="present-but-none"
        ),
    ],
)
def test_one_uncorrectable_finding(
    wanted: Any, observed: Any, fields: dict[str, FieldChange], severity: str, subject: str | None
) -> None:
    [change] = compare_external_storage("P", wanted, observed)
    assert (change.action, change.kind, change.project, change.subject) == (
        "uncorrectable",
        "external_storage",
        "P",
        subject,
    )
    assert dict(change.fields) == fields
    assert change.severity == severity
    assert not change.applies, "report-only: never applied"
    assert "a person must" in change.reason
    assert change.facts_as(StorageFacts).external_storage_id == subject
    assert 0 < change.order < 100


def test_each_live_configuration_is_judged_on_its_own() -> None:
    changes = compare_external_storage(
        "P",
        AWS_EU,
        (live(), live(location="stray", storage_id="extstore_2"), live(status="unhealthy", storage_id="extstore_3")),
    )
    assert [(c.subject, sorted(c.fields)) for c in changes] == [
        ("extstore_2", ["location"]),
        ("extstore_3", ["status"]),
    ]


def test_an_unreadable_setting_is_reported_not_guessed() -> None:
    [change] = compare_external_storage("P", AWS_EU, Unreadable("could not read it: 403"))
    assert (change.action, change.severity, change.reason) == ("report", "high", "could not read it: 403")
    assert compare_external_storage("P", None, Unreadable("x")) == []


def test_managed_from_project_defaults_unless_the_file_says_otherwise() -> None:
    defaults = ProjectDefaults.model_validate({"external_storage": {"provider": "gcp"}})
    inherited = desired_project(defaults, name="x")
    assert KIND.manages(inherited) and inherited.settings.external_storage == want("gcp")
    own = desired_project(defaults, name="x", external_storage="none")
    assert own.settings.external_storage == "none"
    assert not KIND.manages(desired_project(name="x"))
    [change] = KIND.compare(inherited, (live(),), world())
    assert change.fields == {"provider": FieldChange("aws", "gcp")}


@pytest.mark.parametrize(
    ("observed", "exported"),
    [
        pytest.param((), None, id="none-is-not-written"),
        pytest.param(
            (live(),), {"external_storage": {"provider": "aws", "geography": "EU", "location": "acme-eu"}}, id="aws"
        ),
        pytest.param(
            (live("azure", location="a/c", geography=None),),
            {"external_storage": {"provider": "azure", "location": "a/c"}},
            id="azure-without-geography",
        ),
    ],
)
def test_export_writes_what_compare_then_finds_equal(observed: Any, exported: Any) -> None:
    assert KIND.export(observed) == exported
    if exported is not None:
        project = desired_project(name="x", **exported)
        assert KIND.compare(project, observed, world()) == []


@pytest.mark.parametrize(
    "observed",
    [
        pytest.param(Unreadable("403"), id="unreadable"),
        pytest.param((live(), live(storage_id="extstore_2")), id="two-configurations"),
        pytest.param((live("ibm"),), id="unknown-provider"),
    ],
)
def test_what_no_file_can_hold_is_not_exported(observed: Any) -> None:
    with pytest.raises(NotExportable):
        KIND.export(observed)


async def test_apply_refuses_to_write() -> None:
    [change] = compare_external_storage("P", AWS_EU, ())
    with pytest.raises(ValueError, match="report-only"):
        await KIND.apply(None, change, "proj_1")  # type: ignore[arg-type]
