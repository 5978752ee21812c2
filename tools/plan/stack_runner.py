"""Runs the real ``__main__.py`` for one stack under the mock engine and writes what it registered as JSON.

Each stack runs in its own interpreter (``python -m tools.plan.stack_runner``) because the Pulumi runtime
keeps global state (settings, root stack, config) that cannot be reset cleanly between programs.
Usage: ``stack_runner STACK OUT.json [OVERRIDES_JSON]``; overrides map full config keys to a new raw value,
or to null to remove the key.
"""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from tools.plan.mocks import Eco2Mocks, RecordingMonitor, _plain

REPO_ROOT = Path(__file__).resolve().parents[2]
FAKE_SSH_PRIVATE_KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "ZmFrZS1rZXktZm9yLW1vY2stdGVzdHMtb25seQ==\n"
    "-----END OPENSSH PRIVATE KEY-----\n"
)
FAKE_SECRETS = {"eco2:sshPrivateKey": FAKE_SSH_PRIVATE_KEY}


def _raw(value: Any) -> str:
    """A config value as the CLI hands it to the program: strings as-is, everything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def stack_config(stack: str) -> dict[str, str]:
    """What ``pulumi`` would pass for this stack: Pulumi.yaml defaults, Pulumi.<stack>.yaml, fake secrets."""
    project_file = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())
    project = project_file["name"]
    config: dict[str, str] = {}
    for key, spec in (project_file.get("config") or {}).items():
        if isinstance(spec, dict) and "default" in spec:
            config[key if ":" in key else f"{project}:{key}"] = _raw(spec["default"])
    stack_file = yaml.safe_load((REPO_ROOT / f"Pulumi.{stack}.yaml").read_text())
    for key, value in (stack_file.get("config") or {}).items():
        config[key] = _raw(value)
    config.update(FAKE_SECRETS)
    return config


def run(stack: str, overrides: dict[str, str | None]) -> dict[str, Any]:
    project = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())["name"]
    config = stack_config(stack)
    for key, value in overrides.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    mocks = Eco2Mocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_all_config(config, secret_keys=[key for key in FAKE_SECRETS if key in config])
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)

    def program() -> None:
        runpy.run_path(str(REPO_ROOT / "__main__.py"), run_name="__main__")

    _sync_await(run_pulumi_func(program))

    root = pulumi.runtime.get_root_resource()
    outputs: dict[str, Any] = {}
    for name, value in (getattr(root, "outputs", None) or {}).items():
        output = pulumi.Output.from_input(value)
        secret_paths: list[str] = []
        plain = _plain(_sync_await(output.future()), "", secret_paths)
        outputs[name] = {"value": plain, "secret": bool(_sync_await(output.is_secret()))}
    return {"resources": monitor.registrations, "outputs": outputs}


def main(argv: list[str]) -> int:
    stack, out_path = argv[0], Path(argv[1])
    overrides = json.loads(argv[2]) if len(argv) > 2 else {}
    result = run(stack, overrides)
    out_path.write_text(json.dumps(result, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
