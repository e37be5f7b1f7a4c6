"""The desired state reaches the daemon intact: the example overlay ships a valid one, the ConfigMaps load
exactly like the files once the kubelet has mounted them, and the README's recipe for pointing an overlay at
your own desired_state/ builds."""

from __future__ import annotations

import re
from pathlib import Path

from deploy_support import (
    DEPLOY,
    DESIRED_DIR,
    EXAMPLE_DESIRED,
    Manifest,
    find,
    mounts_by_path,
    volumes_by_name,
)

from datacontrols.desired import load_desired_state


def test_example_overlay_ships_a_valid_desired_state() -> None:
    desired = load_desired_state(EXAMPLE_DESIRED)  # raises DesiredStateError, with positions, if not
    assert len(desired.projects) == len(list((EXAMPLE_DESIRED / "projects").glob("*.yaml")))


def _mount_configmap(directory: Path, data: dict[str, str]) -> None:
    """Lay out a ConfigMap volume the way the kubelet's atomic writer does: the files in a timestamped
    hidden directory, a `..data` link to it, and one link per key to `..data/<key>`."""
    directory.mkdir(parents=True, exist_ok=True)
    payload = directory / "..2026_01_01_00_00_00.000000001"
    payload.mkdir()
    for key, content in data.items():
        (payload / key).write_text(content)
    (directory / "..data").symlink_to(payload.name)
    for key in data:
        (directory / key).symlink_to(f"..data/{key}")


def _mount_desired_state(manifests: list[Manifest], root: Path) -> Path:
    """Mount the rendered ConfigMaps where the rendered Deployment mounts them, under `root`."""
    configmaps = {m["metadata"]["name"]: m["data"] for m in find(manifests, "ConfigMap")}
    volumes = volumes_by_name(manifests)
    mounts = sorted(mounts_by_path(manifests).items())  # parents first: /desired before /desired/projects
    for path, mount in mounts:
        if not path.startswith(DESIRED_DIR):
            continue
        name = volumes[mount["name"]]["configMap"]["name"]
        # The kubelet creates a nested mount point inside the outer ConfigMap volume.
        _mount_configmap(root / path.lstrip("/"), configmaps[name])
    return root / DESIRED_DIR.lstrip("/")


def test_mounted_configmaps_load_exactly_like_the_files(example_manifests: list[Manifest], tmp_path: Path) -> None:
    mounted = _mount_desired_state(example_manifests, tmp_path)
    assert (mounted / "projects" / "..data").is_symlink(), "the layout under test is the kubelet's"
    assert load_desired_state(mounted) == load_desired_state(EXAMPLE_DESIRED)


def test_readme_shows_the_references_of_the_kustomization_for_your_own_repository() -> None:
    # The kustomization itself is deploy/examples/your-repository (rendered by test_deploy_your_repository);
    # the README's excerpt of it must not drift from it.
    readme = (DEPLOY / "README.md").read_text()
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", readme, flags=re.DOTALL) if "//deploy/base" in b]
    assert len(blocks) == 1, "deploy/README.md shows one excerpt of the kustomization for your repository"
    example = (DEPLOY / "examples" / "your-repository" / "kustomization.yaml").read_text()
    references = re.findall(r"https://\S+//deploy/\S+\?ref=\S+", blocks[0])
    assert len(references) >= 2
    for reference in references:
        assert reference in example, reference
