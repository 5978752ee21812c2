"""``python -m tools.plan``: the folder it writes, its exit status on violations and program failures."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from tests.plan.synthetic import deployment, kubernetes
from tools.plan import cli
from tools.plan.harness import ProgramRun, run_stack


def test_the_plan_folder_holds_plan_json_and_one_manifest_per_object(tmp_path: Path, capsys) -> None:
    assert cli.main(["dev", "--out", str(tmp_path)]) == 0
    folder = tmp_path / "dev"
    plan = json.loads((folder / "plan.json").read_text())
    assert plan["ok"] is True
    assert plan["stack"] == "dev"
    assert plan["kubernetesVersion"] == "1.34"
    assert plan["counts"]["kubernetesObjects"] == len(plan["objects"]) > 0
    written = sorted(path.name for path in (folder / "manifests").iterdir())
    assert written == sorted(Path(item["file"]).name for item in plan["objects"])
    for item in plan["objects"]:
        manifest = json.loads((folder / item["file"]).read_text())
        assert (manifest["apiVersion"], manifest["kind"]) == (item["apiVersion"], item["kind"])
        assert item["file"] == f"manifests/{item['kind']}.{item['namespace']}.{item['name']}.json"
        if not item["autonamed"]:
            assert manifest["metadata"]["name"] == item["name"]
    assert plan["cost"]["totalMonthly"] > 0
    assert plan["criticalPath"]["steps"]
    assert plan["criticalPath"]["goalMinutes"] == 15
    assert plan["outputs"]["kubeconfig"] == "[secret]"
    out = capsys.readouterr().out
    assert "== plan dev (Kubernetes 1.34) ==" in out
    assert "eco2:infra:Cluster cluster" in out
    assert "7 × aws:ec2/instance:Instance" in out
    assert 'kubeconfig: "[secret]"' in out
    assert "BEGIN" not in out, "no private key or certificate is printed"
    assert "monthly cost estimate" in out
    assert "stand-up time (critical path)" in out
    assert "violations: none" in out


def test_plan_out_from_the_environment_and_stale_manifests_removed(tmp_path: Path, monkeypatch) -> None:
    stale = tmp_path / "dev" / "manifests" / "Deployment.eco2.gone.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    monkeypatch.setenv("PLAN_OUT", str(tmp_path))
    assert cli.main(["dev"]) == 0
    assert not stale.exists()
    assert (tmp_path / "dev" / "plan.json").exists()


def _with_broken_deployment(stack: str, overrides) -> ProgramRun:
    run = run_stack(stack)
    manifest = deployment(replicas="two")
    manifest["metadata"]["name"] = "plan-test-broken"  # not a name the program uses
    broken = kubernetes("kubernetes:apps/v1:Deployment", manifest)
    return dataclasses.replace(run, resources=(*run.resources, broken))


def test_a_violation_fails_the_plan_and_names_object_and_path(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(cli, "_run", _with_broken_deployment)
    assert cli.main(["dev", "--out", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "[schema] Deployment eco2/plan-test-broken at spec.replicas: 'two' is not of type" in captured.out
    assert "plan dev: FAILED: 1 violation(s)" in captured.err
    plan = json.loads((tmp_path / "dev" / "plan.json").read_text())
    assert plan["ok"] is False
    assert plan["findings"][0]["path"] == "spec.replicas"
    assert (tmp_path / "dev" / "manifests" / "Deployment.eco2.plan-test-broken.json").exists(), (
        "kept for review"
    )


def test_a_failing_program_fails_the_plan(tmp_path: Path, capsys) -> None:
    assert cli.main(["dev", "--out", str(tmp_path), "--config", "eco2:imageTag=latest"]) == 1
    err = capsys.readouterr().err
    assert "plan dev: FAILED: stack dev: program failed:" in err
    assert "latest" in err
    assert not (tmp_path / "dev").exists()


def test_an_unsupported_kubernetes_version_fails_the_plan(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(cli, "_run", lambda stack, overrides: run_stack(stack))
    assert cli.main(["dev", "--out", str(tmp_path), "--config", "eco2:kubernetesVersion=1.19.0"]) == 1
    assert "kubernetes-validate" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["staging"], ["--config", "imageTag"], ["--config", "imageTag=1"]])
def test_bad_usage_exits_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
