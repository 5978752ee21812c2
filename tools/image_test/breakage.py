"""Broken variants of the rendered manifests: each must make image-test fail, with a message that names the
workload and the reason (`python -m tools.image_test --self-check`). Pure functions of the manifests."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

from tools.image_test.manifests import Manifest, containers, is_api, name_of, pod_spec


@dataclass(frozen=True)
class Breakage:
    name: str
    target: Callable[[list[Manifest]], str]  # the Deployment it breaks
    mutate: Callable[[Manifest, list[Manifest]], None]  # in place, on copies
    expected: str  # a text the failure message must contain


def variant(breakage: Breakage, manifests: list[Manifest]) -> list[Manifest]:
    """Config, the migration Job and the one broken Deployment (the others are not needed to show it)."""
    broken = copy.deepcopy(manifests)
    target = breakage.target(broken)
    kept = [m for m in broken if m["kind"] != "Deployment" or name_of(m) == target]
    (deployment,) = [m for m in kept if m["kind"] == "Deployment"]
    breakage.mutate(deployment, kept)
    return kept


def _writes_to_empty_dir(manifests: list[Manifest]) -> str:
    """The Deployment that needs its emptyDir: celery beat keeps its schedule file there."""
    for manifest in manifests:
        words = [w for c in containers(manifest) for w in c.get("command", []) + c.get("args", [])]
        if manifest["kind"] == "Deployment" and "beat" in words and pod_spec(manifest).get("volumes"):
            return name_of(manifest)
    raise ValueError("no celery beat Deployment with an emptyDir in the manifests")


def _first_api(manifests: list[Manifest]) -> str:
    return next(name_of(m) for m in manifests if is_api(m))


def drop_empty_dirs(deployment: Manifest, _: list[Manifest]) -> None:
    spec = pod_spec(deployment)
    empty = {volume["name"] for volume in spec.get("volumes", []) if "emptyDir" in volume}
    spec["volumes"] = [volume for volume in spec.get("volumes", []) if volume["name"] not in empty]
    for container in containers(deployment):
        container["volumeMounts"] = [m for m in container.get("volumeMounts", []) if m["name"] not in empty]


def misspell_command(deployment: Manifest, _: list[Manifest]) -> None:
    container = pod_spec(deployment)["containers"][0]
    words = container.get("command") or container["args"]
    words[0] = words[0] + "-typo"


TOKEN_KEYS = ("ECO2_TOKEN_SIGNING_KEY", "ECO2_TOKEN_PUBLIC_KEY")


def drop_token_keys(deployment: Manifest, manifests: list[Manifest]) -> None:
    """The token keys disappear from the container's env and from every Secret and ConfigMap."""
    for container in containers(deployment):
        container["env"] = [entry for entry in container.get("env", []) if entry["name"] not in TOKEN_KEYS]
    for manifest in manifests:
        if manifest["kind"] in ("Secret", "ConfigMap"):
            for key in ("data", "stringData"):
                for name in TOKEN_KEYS:
                    manifest.get(key, {}).pop(name, None)


BREAKAGES = (
    Breakage(
        "read-only root filesystem without its emptyDir",
        _writes_to_empty_dir,
        drop_empty_dirs,
        "Deployment beat, container beat: exited",  # its schedule folder is read-only or absent
    ),
    Breakage("wrong command", _first_api, misspell_command, "-typo"),
    Breakage(
        "missing environment variable ECO2_TOKEN_SIGNING_KEY",
        _first_api,
        drop_token_keys,
        "ECO2_TOKEN_SIGNING_KEY",
    ),
)
