"""``python -m tools.classifier {train,evaluate}``: the embedded classifier's tooling (needs TrashNet).

The ONNX export (torch) and the ImageNet layer copy (onnx) run from their own venvs:
``python -m tools.classifier.export_onnx`` and ``python -m tools.classifier.imagenet_fc``.
"""

from __future__ import annotations

import sys

from tools.classifier import evaluate, train

COMMANDS = {"train": train.main, "evaluate": evaluate.main}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        raise SystemExit(f"usage: python -m tools.classifier {{{','.join(COMMANDS)}}} --data <trashnet> ...")
    COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
