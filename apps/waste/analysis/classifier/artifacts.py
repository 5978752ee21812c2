"""Versioned classifier artifacts: the manifest that pins each file's sha256, verified before use.

``artifacts/manifest.json`` lists every committed file the runtime loads (the ONNX backbone, the learned
head, the ImageNet label names) with its size and sha256. The runtime refuses a file whose bytes do not match,
so a truncated checkout, a Git LFS pointer or a hand-edited model fails loudly at load instead of classifying
wrongly.
The export and training scripts call :func:`record_artifact` after writing a file, so the manifest is never
edited by hand.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
MANIFEST_NAME = "manifest.json"

MODEL_FILE = "efficientnet_lite2_260.onnx"
HEAD_FILE = "head.npz"
LABELS_FILE = "imagenet_labels.json"


class ArtifactError(RuntimeError):
    """A classifier artifact is missing, or its bytes differ from the checksum in the manifest."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_manifest(artifacts_dir: Path) -> dict[str, Any]:
    manifest_path = artifacts_dir / MANIFEST_NAME
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ArtifactError(f"classifier manifest not found: {manifest_path}") from exc
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"classifier manifest is not valid JSON: {manifest_path}: {exc}") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise ArtifactError(f"classifier manifest has no 'files' table: {manifest_path}")
    return manifest


def verified_path(artifacts_dir: Path, name: str) -> Path:
    """Return the path of artifact ``name`` after checking it against the manifest's sha256."""
    entry = load_manifest(artifacts_dir)["files"].get(name)
    if not isinstance(entry, dict) or "sha256" not in entry:
        raise ArtifactError(f"classifier manifest in {artifacts_dir} has no entry for {name!r}")
    path = artifacts_dir / name
    if not path.is_file():
        raise ArtifactError(f"classifier artifact missing: {path}")
    actual = sha256_of(path)
    if actual != entry["sha256"]:
        raise ArtifactError(
            f"classifier artifact {path} failed its checksum: manifest says sha256 {entry['sha256']}, "
            f"file has {actual} ({path.stat().st_size} bytes). Restore it from git (a Git LFS pointer or a "
            "partial download looks like this) or regenerate it with the script named in docs/classifier.md."
        )
    return path


def backbone_sha256(artifacts_dir: Path) -> str:
    """The checksum the manifest pins for the backbone: what features, heads and kept scans are tied to."""
    entry = load_manifest(artifacts_dir)["files"].get(MODEL_FILE)
    if not isinstance(entry, dict) or "sha256" not in entry:
        raise ArtifactError(f"classifier manifest in {artifacts_dir} has no entry for {MODEL_FILE!r}")
    return str(entry["sha256"])


def verified_for_backbone(artifacts_dir: Path, name: str) -> Path:
    """``verified_path`` for an artifact made from backbone features (a head, a feature table): also refuse
    it unless its manifest entry names the backbone the artifacts directory holds, so features of one
    backbone never meet a head or a table of another."""
    path = verified_path(artifacts_dir, name)
    recorded = load_manifest(artifacts_dir)["files"][name].get("backbone_sha256")
    current = backbone_sha256(artifacts_dir)
    if recorded != current:
        raise ArtifactError(
            f"classifier artifact {path} was made from the features of backbone "
            f"{recorded or '(not recorded)'}, but {MODEL_FILE} in {artifacts_dir} is {current}: refit it for "
            "this backbone (docs/classifier.md, 'Reproducing the artifacts') or restore the matching model."
        )
    return path


def record_artifact(artifacts_dir: Path, name: str, produced_by: str, details: dict[str, Any]) -> None:
    """Write or refresh the manifest entry of ``name`` (checksum, size, producer and free-form details)."""
    manifest_path = artifacts_dir / MANIFEST_NAME
    manifest: dict[str, Any] = (
        load_manifest(artifacts_dir) if manifest_path.exists() else {"format": 1, "files": {}}
    )
    path = artifacts_dir / name
    manifest["files"][name] = {
        "sha256": sha256_of(path),
        "bytes": path.stat().st_size,
        "produced_by": produced_by,
        **details,
    }
    manifest["files"] = dict(sorted(manifest["files"].items()))
    manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_npz(path: Path, arrays: dict[str, Any], compression: int = zipfile.ZIP_DEFLATED) -> None:
    """An ``.npz`` without pickles, written entry by entry with a fixed timestamp (``np.savez`` stamps the
    current time), so the same arrays always give a byte-identical file and checksum. ``np.load`` reads
    any ``compression`` ``zipfile`` knows."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, value in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(value), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = compression
            archive.writestr(info, member.getvalue())
    path.write_bytes(buffer.getvalue())
