"""The image's prune rules (tools/image/prune.py): what they match, and that serving never needs it."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import botocore
import pytest

from tools.image import prune
from tools.image.bytecode import imported_sources
from tools.image.prune import is_pruned, matches, strip_debug_symbols, strippable_libraries

SITE_PACKAGES = Path(botocore.__file__).resolve().parents[1]  # the dev virtualenv holds the app's packages
REPO_ROOT = Path(__file__).resolve().parents[2]  # where its editable install finds `apps`


def test_patterns_match_whole_segments() -> None:
    assert matches("**/tests/**", "numpy/_core/tests/test_api.py")
    assert matches("**/tests/**", "certifi/tests/__init__.py")
    assert not matches("**/tests/**", "numpy/_core/testsuite.py")
    assert not matches("**/tests/**", "mypackage/tests")  # a module file named tests, not a folder
    assert matches("**/*.pyi", "numpy/__init__.pyi")
    assert not matches("**/*.pyi", "numpy/__init__.py")
    assert matches("botocore/data/*/**", "botocore/data/ec2/2016-11-15/service-2.json.gz")
    assert not matches("botocore/data/*/**", "botocore/data/endpoints.json")


def test_kept_services_override_the_botocore_data_rule() -> None:
    assert is_pruned("botocore/data/ec2/2016-11-15/service-2.json.gz")
    assert not is_pruned("botocore/data/s3/2006-03-01/service-2.json.gz")
    assert not is_pruned("botocore/data/sts/2011-06-15/endpoint-rule-set-1.json.gz")
    assert not is_pruned("botocore/data/partitions.json")


def test_nothing_the_processes_import_at_start_is_pruned() -> None:
    """The image build's own start-up probe, run here in the dev virtualenv: none of its files matches."""
    imported = [Path(name) for name in imported_sources(sys.executable)]
    roots = (SITE_PACKAGES, REPO_ROOT)
    relative = [p.relative_to(root) for root in roots for p in imported if p.is_relative_to(root)]
    assert len(relative) > 1000  # the probe really imported the app and its dependencies
    assert {"apps", "numpy", "onnxruntime", "botocore", "celery", "uvicorn"} <= {p.parts[0] for p in relative}
    assert [p for p in relative if is_pruned(p.as_posix())] == []


def test_botocore_keeps_the_model_of_every_client_its_credential_providers_create() -> None:
    clients = set()
    for module in ("credentials.py", "tokens.py"):
        source = (SITE_PACKAGES / "botocore" / module).read_text(encoding="utf-8")
        clients |= set(re.findall(r"_client_creator\(\s*['\"]([a-z0-9-]+)['\"]", source))
        clients |= set(re.findall(r"create_nested_client\(\s*[^,]+,\s*['\"]([a-z0-9-]+)['\"]", source))
    assert {"sts", "sso", "sso-oidc"} <= clients
    for client in clients | {"s3"}:  # and the one the app creates (apps/core/storage.py)
        models = list((SITE_PACKAGES / "botocore" / "data" / client).rglob("*.json*"))
        assert models, client
        assert not [m for m in models if is_pruned(m.relative_to(SITE_PACKAGES).as_posix())], client


def test_the_onnxruntime_binding_does_not_load_the_pruned_c_api_library() -> None:
    capi = SITE_PACKAGES / "onnxruntime" / "capi"
    (binding,) = capi.glob("onnxruntime_pybind11_state*.so")
    assert [p.name for p in capi.glob("libonnxruntime.so.*") if is_pruned(f"onnxruntime/capi/{p.name}")]
    assert b"libonnxruntime.so" not in binding.read_bytes()


def _tree(root: Path, *files: str) -> None:
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"\x7fELF" + name.encode())


def test_prune_removes_matched_files_and_the_folders_left_empty(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        "numpy/_core/tests/test_a.py",
        "numpy/_core/multiarray.py",
        "botocore/data/ec2/1/service-2.json.gz",
        "botocore/data/s3/1/service-2.json.gz",
        "botocore/data/endpoints.json",
    )
    files, removed = prune.prune(tmp_path)
    assert files == 2 and removed > 0
    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    kept_model = "botocore/data/s3/1/service-2.json.gz"
    assert left == ["botocore/data/endpoints.json", kept_model, "numpy/_core/multiarray.py"]
    assert not (tmp_path / "numpy/_core/tests").exists() and not (tmp_path / "botocore/data/ec2").exists()


def test_bundled_libraries_are_never_stripped(tmp_path: Path) -> None:
    _tree(tmp_path, "numpy.libs/libopenblas.so", "numpy/_core/_multiarray_umath.so", "PIL/_imaging.so.1")
    (tmp_path / "PIL/notes.so.txt").write_text("not an ELF file")
    names = [p.relative_to(tmp_path).as_posix() for p in strippable_libraries(tmp_path)]
    assert names == ["PIL/_imaging.so.1", "numpy/_core/_multiarray_umath.so"]


def test_a_build_stage_without_strip_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _: None)
    with pytest.raises(SystemExit, match="needs binutils"):
        strip_debug_symbols(tmp_path)
