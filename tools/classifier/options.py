"""Command-line options the classifier tools share: data, artifacts, feature cache, threads."""

from __future__ import annotations

import argparse
from pathlib import Path

from apps.waste.analysis.classifier.artifacts import DEFAULT_ARTIFACTS_DIR
from tools.classifier.features import DEFAULT_CACHE_DIR


def add_photo_arguments(parser: argparse.ArgumentParser) -> None:
    """Where the photos and the artifacts are, and how many onnxruntime threads run the backbone."""
    parser.add_argument("--data", type=Path, required=True, help="TrashNet root (<class>/*.jpg)")
    parser.add_argument("--artifacts", type=Path, default=DEFAULT_ARTIFACTS_DIR)
    parser.add_argument("--threads", type=int, default=2)


def add_feature_arguments(parser: argparse.ArgumentParser) -> None:
    """The photo arguments and the feature cache."""
    add_photo_arguments(parser)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE_DIR, help="feature cache (outside git)")
