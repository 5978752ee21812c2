"""What the built image holds and how it runs (needs podman and `make image`; image-test runs these)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from eco2_platform.workloads.image_puller import PULLER_NAME
from tests.support.kubernetes import named, pod_spec
from tools.image.prune import is_pruned
from tools.plan.harness import run_program

REPO_ROOT = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("ECO2_IMAGE", "localhost/eco2-api:dev")
ENV = {**os.environ, "CONTAINERS_CONF": str(REPO_ROOT / "scripts" / "image" / "containers.conf")}


def _image_present() -> bool:
    if shutil.which("podman") is None:
        return False
    return subprocess.run(["podman", "image", "exists", IMAGE], env=ENV, check=False).returncode == 0


pytestmark = [
    pytest.mark.podman,
    pytest.mark.skipif(not _image_present(), reason=f"needs podman and {IMAGE} (make image)"),
]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    """The image's default user, no network at all, a read-only root filesystem, local settings."""
    flags = [
        "--rm",
        "--network",
        "none",
        "--read-only",
        "--read-only-tmpfs=false",
        "-e",
        "ECO2_ENVIRONMENT=local",
    ]
    return subprocess.run(
        ["podman", "run", *flags, IMAGE, *command], capture_output=True, text=True, env=ENV, timeout=120
    )


def test_the_image_runs_as_the_numeric_non_root_user_the_manifests_declare() -> None:
    user = subprocess.run(
        ["podman", "image", "inspect", "--format", "{{.Config.User}}", IMAGE],
        capture_output=True,
        text=True,
        env=ENV,
        check=True,
    ).stdout.strip()
    assert user == "10001:10001"
    assert _run("id", "-u").stdout.strip() == "10001"


def test_no_compiler_no_pip_no_test_code_no_pulumi() -> None:
    # binutils (strip) is in the build stage's base only
    assert _run("sh", "-c", "command -v gcc cc c++ clang make ld as strip").stdout.strip() == ""
    probe = "import importlib.util as u; print(sorted(m for m in {} if u.find_spec(m)))".format(
        (
            "pip",
            "setuptools",
            "pytest",
            "pulumi",
            "pulumi_kubernetes",
            "moto",
            "tests",
            "tools",
            "bench",
            "torch",
        )
    )
    assert _run("python", "-c", probe).stdout.strip() == "[]"


def test_every_entry_point_imports_on_a_read_only_root_filesystem() -> None:
    completed = _run("python", "-c", "import apps.main, apps.worker, apps.core.migrate; print('ok')")
    assert completed.stdout.strip() == "ok", completed.stderr
    assert _run("ecoeco", "--help").returncode == 0


def test_nothing_but_tmp_is_writable() -> None:
    completed = _run("sh", "-c", "touch /opt/venv/x /x 2>&1; echo done")
    assert completed.stdout.count("Read-only file system") == 2


SITE_PACKAGES = "/opt/venv/lib/python3.11/site-packages"


def test_no_file_the_prune_rules_remove_is_in_the_image() -> None:
    listing = _run("find", SITE_PACKAGES, "-type", "f")
    files = [line.removeprefix(SITE_PACKAGES + "/") for line in listing.stdout.splitlines()]
    assert len(files) > 1000, listing.stderr
    assert "botocore/data/s3/2006-03-01/service-2.json.gz" in files
    assert [name for name in files if is_pruned(name)] == []


def test_every_shared_library_still_loads_after_strip_and_prune() -> None:
    """Each ELF shared object loads with its dependencies: none was broken by strip or lost to a rule."""
    probe = f"""
import ctypes, pathlib
root = pathlib.Path({SITE_PACKAGES!r})
libraries = [p for p in root.rglob("*.so*") if p.is_file() and p.open("rb").read(4) == b"\\x7fELF"]
failed = []
for path in libraries:
    try:
        ctypes.CDLL(str(path))
    except OSError as error:
        failed.append(str(error))
print(len(libraries), failed)
"""
    count, failed = _run("python", "-c", probe).stdout.strip().split(" ", 1)
    assert int(count) > 50
    assert failed == "[]"


def test_what_the_entry_points_import_has_byte_code() -> None:
    """The root filesystem is read-only: a module without byte code would compile at every start."""
    probe = f"""
import importlib.util, os, sys
import apps.main, apps.worker, apps.core.migrate, numpy, onnxruntime
files = [m.__file__ for m in list(sys.modules.values()) if getattr(m, "__file__", None)]
sources = [f for f in files if f.startswith({SITE_PACKAGES!r}) and f.endswith(".py")]
print(len(sources), [f for f in sources if not os.path.exists(importlib.util.cache_from_source(f))])
"""
    completed = _run("python", "-c", probe)
    count, missing = completed.stdout.strip().split(" ", 1)
    assert int(count) > 500, completed.stderr
    assert missing == "[]"


def test_the_app_image_puller_init_container_runs_in_the_image_as_its_manifest_declares() -> None:
    """The DaemonSet's pull step as declared: its user, no capabilities, a read-only root, no volume. (Its
    hold container is the node's pause image, which no registry here serves: image-test does not play it.)"""
    puller = named(run_program("dev"), "DaemonSet", PULLER_NAME)
    (init,) = pod_spec(puller)["initContainers"]
    security = init["securityContext"]
    assert "volumeMounts" not in init
    command = [
        "podman",
        "run",
        "--rm",
        "--network",
        "none",
        "--read-only",
        "--read-only-tmpfs=false",
        "--user",
        f"{security['runAsUser']}:{security['runAsGroup']}",
        "--cap-drop",
        "all",
        "--security-opt",
        "no-new-privileges",
        "--entrypoint",
        init["command"][0],
        IMAGE,
        *init["command"][1:],
    ]
    completed = subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr
