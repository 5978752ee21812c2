"""Fine-tune a copy of the backbone's tail on cached trunk activations (train venv, CPU, one thread).

    .venv-train/bin/python -m tools.classifier.finetune [--epochs 6]

Reads ``finetune_cache``'s activations; trains the tail copy plus a linear layer over the head's classes on
the *train* rows (photos as shot, composites on training backgrounds, extra augmented views, drawings), with
class-balanced cross-entropy (optionally label-smoothed), AdamW and a cosine schedule; the epoch kept is the
one with the lowest NLL on the calibration photos' composites on the *reserved* background families (which the
tail never trains on; the NLL on the table's calibration rows is logged beside it). The test split's rows are
never looked at. Writes ``tail.pt`` (the tail's state) and ``tail-features.npz``: the fine-tuned tail's pooled
features (``waste``) and the original tail's (``imagenet``) of every feature-table row and reserved-background
calibration composite, for fitting and scoring heads before an export.
The process writes its PID to ``/tmp/eco2-train.pid`` (it may be paused with SIGSTOP during a benchmark).
"""

from __future__ import annotations

import argparse
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from apps.waste.analysis.classifier.decision import HEAD_CLASSES
from apps.waste.analysis.classifier.feature_table import RESERVED_CALIBRATION_VIEWS
from tools.classifier.finetune_cache import DEFAULT_DIR, FIRST_EXTRA_VIEW
from tools.classifier.network import FEATURES, Tail, pretrained, waste_tail

PID_FILE = Path("/tmp/eco2-train.pid")  # noqa: S108  # where the lead looks for it (SIGSTOP/SIGCONT)
BATCH = 64


def _frozen_part(tail: Tail, activations: np.ndarray, frozen: int) -> torch.Tensor:
    """The output of the first ``frozen`` tail blocks (kept as they are), computed once, float16."""
    tail.eval()
    with torch.no_grad():
        parts = [
            tail.through(torch.from_numpy(activations[i : i + 256]).float(), 0, frozen).half()
            for i in range(0, len(activations), 256)
        ]
    return torch.cat(parts)


def _trained_part(tail: Tail, x: torch.Tensor, frozen: int) -> torch.Tensor:
    return tail.pooled(tail.through(x, frozen, len(tail.blocks)))


def _evaluate(
    tail: Tail, linear: torch.nn.Linear, x: torch.Tensor, y: torch.Tensor, frozen: int
) -> tuple[float, float]:
    tail.eval()
    with torch.no_grad():
        logits = torch.cat(
            [linear(_trained_part(tail, x[i : i + 256].float(), frozen)) for i in range(0, len(x), 256)]
        )
    nll = float(torch.nn.functional.cross_entropy(logits, y))
    return nll, float((logits.argmax(1) == y).float().mean())


def pooled(tail: Tail, activations: np.ndarray) -> np.ndarray:
    tail.eval()
    with torch.no_grad():
        parts = [
            tail(torch.from_numpy(activations[i : i + 256]).float()) for i in range(0, len(activations), 256)
        ]
    return np.asarray(torch.cat(parts).numpy())


@dataclass(frozen=True)
class Recipe:
    epochs: int
    lr: float
    seed: int = 0
    frozen: int = 0
    weight_decay: float = 1e-4
    label_smoothing: float = 0.0


def train(cache: dict[str, Any], recipe: Recipe) -> tuple[dict[str, torch.Tensor], list[str]]:
    """The best tail state (reserved-background calibration NLL) and the per-epoch log; the first
    ``recipe.frozen`` tail blocks keep their ImageNet weights."""
    epochs, frozen = recipe.epochs, recipe.frozen
    torch.manual_seed(recipe.seed)
    network = pretrained()
    tail = waste_tail(network)
    linear = torch.nn.Linear(FEATURES, len(HEAD_CLASSES))
    train_rows = cache["splits"] == "train"
    reserved_rows = np.isin(cache["views"], RESERVED_CALIBRATION_VIEWS)
    calibration_rows = (cache["splits"] == "calibration") & ~reserved_rows
    x = _frozen_part(tail, cache["activations"][train_rows], frozen)
    y = torch.from_numpy(cache["labels"][train_rows])
    checks = {
        name: (
            _frozen_part(tail, cache["activations"][rows], frozen),
            torch.from_numpy(cache["labels"][rows]),
        )
        for name, rows in (("reserved", reserved_rows), ("table calibration", calibration_rows))
    }
    counts = torch.bincount(y, minlength=len(HEAD_CLASSES)).float()
    class_weights = counts.sum() / (len(HEAD_CLASSES) * counts)
    trained = [*tail.blocks[frozen:], tail.conv_head, tail.bn1]
    for parameter in tail.parameters():
        parameter.requires_grad_(False)
    tail_parameters = [parameter for module in trained for parameter in module.parameters()]
    for parameter in tail_parameters:
        parameter.requires_grad_(True)
    optimiser = torch.optim.AdamW(
        [{"params": tail_parameters, "lr": recipe.lr}, {"params": linear.parameters(), "lr": recipe.lr * 10}],
        weight_decay=recipe.weight_decay,
    )
    steps = epochs * math.ceil(len(x) / BATCH)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, steps) / steps))
    )
    log = []
    best: tuple[float, dict[str, torch.Tensor]] | None = None
    for epoch in range(epochs):
        started = time.monotonic()
        tail.train()
        order = torch.randperm(len(x))
        total = 0.0
        for start in range(0, len(x), BATCH):
            picked = order[start : start + BATCH]
            batch = x[picked].float()
            flip = torch.rand(len(batch)) < 0.5
            batch[flip] = batch[flip].flip(-1)
            loss = torch.nn.functional.cross_entropy(
                linear(torch.nn.functional.dropout(_trained_part(tail, batch, frozen), 0.2, True)),
                y[picked],
                weight=class_weights,
                label_smoothing=recipe.label_smoothing,
            )
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss.detach()) * len(picked)
        measured = {name: _evaluate(tail, linear, *rows, frozen) for name, rows in checks.items()}
        nll = measured["reserved"][0]
        line = (
            f"epoch {epoch + 1}: train loss {total / len(x):.3f}, "
            + ", ".join(
                f"{name} NLL {value:.3f} accuracy {accuracy:.1%}"
                for name, (value, accuracy) in measured.items()
            )
            + f" ({time.monotonic() - started:.0f}s)"
        )
        print(line, flush=True)
        log.append(line)
        if best is None or nll < best[0]:
            best = (nll, {k: v.detach().clone() for k, v in tail.state_dict().items()})
    assert best is not None
    return best[1], log


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cache", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--name", default="tail", help="writes <name>.pt and <name>-features.npz")
    parser.add_argument(
        "--frozen-blocks", type=int, default=0, help="tail blocks kept as they are (cheaper training)"
    )
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--label-smoothing", type=float, default=0.0)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    PID_FILE.write_text(f"{os.getpid()}\n")
    try:
        with np.load(args.cache / "activations.npz") as stored:
            cache = {name: stored[name] for name in stored.files}
        recipe = Recipe(
            args.epochs, args.lr, args.seed, args.frozen_blocks, args.weight_decay, args.label_smoothing
        )
        state, log = train(cache, recipe)
        torch.save({"state": state, "log": log, **asdict(recipe)}, args.cache / f"{args.name}.pt")
        table_rows = ~((cache["splits"] == "train") & (cache["views"] >= FIRST_EXTRA_VIEW))
        activations = cache["activations"][table_rows]
        network = pretrained()
        np.savez(
            args.cache / f"{args.name}-features.npz",
            **{name: cache[name][table_rows] for name in ("keys", "labels", "splits", "views", "held_out")},
            waste=pooled(waste_tail(network, state), activations).astype(np.float16),
            imagenet=pooled(Tail(network), activations).astype(np.float16),
        )
    finally:
        PID_FILE.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
