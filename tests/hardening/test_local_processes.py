"""Local tooling: `make down` stops whole process groups (even when their leader died) and a second beat
scheduler refuses to start next to a running one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in {"Z", "X"}


def test_down_stops_the_orphans_of_a_killed_leader(tmp_path: Path) -> None:
    # A leader that starts a long-lived child and dies, as `celery worker --beat` did when killed.
    leader = subprocess.Popen(
        ["bash", "-c", "sleep 300 & echo $!; exit 0"],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert leader.stdout is not None
    orphan = int(leader.stdout.readline())
    leader.wait(timeout=10)
    assert running(orphan)
    (tmp_path / "worker.pid").write_text(f"{leader.pid}\n")
    try:
        result = subprocess.run(
            [REPO_ROOT / "scripts" / "down.sh"],
            env={**os.environ, "ECO2_RUN_DIR": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 0, result.stderr
        assert "stopped worker" in result.stdout
        deadline = time.monotonic() + 5
        while running(orphan) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not running(orphan), "the orphan outlived make down"
        assert not (tmp_path / "worker.pid").exists()
    finally:
        if running(orphan):
            os.kill(orphan, signal.SIGKILL)


@pytest.mark.slow
def test_a_second_beat_refuses_to_start(tmp_path: Path) -> None:
    command = [
        sys.executable, "-m", "celery", "-A", "apps.worker", "beat",
        "--schedule", str(tmp_path / "schedule"), "--pidfile", str(tmp_path / "celerybeat.lock"),
    ]  # fmt: skip
    first = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "celerybeat.lock").exists():
            assert first.poll() is None, "the first beat exited"
            assert time.monotonic() < deadline, "the first beat never wrote its pidfile"
            time.sleep(0.1)
        second = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
        assert second.returncode != 0
        assert "already exists" in second.stdout + second.stderr
        assert first.poll() is None, "the running beat is untouched"
    finally:
        first.terminate()
        first.wait(timeout=20)
