"""The few podman calls image-test makes. Every container runs on the host network (loopback only)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path


class PodmanError(RuntimeError):
    pass


def podman(*args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        ["podman", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and completed.returncode != 0:
        output = (completed.stderr or completed.stdout).strip().splitlines()
        # Without systemd podman also logs that it cannot remove healthcheck timers: not the error to show.
        errors = [line for line in output if "healthcheck" not in line] or output
        raise PodmanError(f"podman {' '.join(args[:2])} failed: {' '.join(errors)}")
    return completed


def play(path: Path) -> None:
    """`podman kube play --network host`: never podman's bridge (a private range not to be used here)."""
    podman("kube", "play", "--network", "host", str(path))


def down(path: Path) -> None:
    podman("kube", "down", str(path), check=False)


@dataclass(frozen=True)
class State:
    status: str  # created, running, exited, ...
    exit_code: int
    restarts: int
    error: str


def state(container: str) -> State | None:
    completed = podman("container", "inspect", container, check=False)
    if completed.returncode != 0:
        return None
    (info,) = json.loads(completed.stdout)
    raw = info["State"]
    return State(
        raw["Status"], int(raw.get("ExitCode", 0)), int(info.get("RestartCount", 0)), raw.get("Error", "")
    )


def logs(container: str, lines: int = 40) -> str:
    completed = podman("logs", "--tail", str(lines), container, check=False)
    return (completed.stdout + completed.stderr).strip()


def image_user(image: str) -> str:
    return podman("image", "inspect", "--format", "{{.Config.User}}", image).stdout.strip()


def tag(image: str, reference: str) -> None:
    podman("tag", image, reference)


def exec_in(container: str, command: list[str]) -> bool:
    return podman("exec", container, *command, check=False, timeout=30).returncode == 0
