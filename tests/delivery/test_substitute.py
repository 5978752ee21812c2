"""The one substitution between rendered manifests and this machine (tools/image_test/substitute.py)."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

import pytest

from tools.image_test.manifests import Manifest, app_workloads, containers, effective_env, load_plan, name_of
from tools.image_test.substitute import Machine, SubstitutionError, localize

FIXTURE = Path(__file__).parent / "fixtures" / "plan"
APIS = ("api-auth", "api-users", "api-waste", "api-recycling", "api-locations")
MACHINE = Machine(
    database_url="postgresql+psycopg://postgres@127.0.0.1:5432/eco2_image_test_x",
    broker_url="amqp://guest:guest@127.0.0.1:5672/eco2_image_test_x",
    redis_url="redis://127.0.0.1:6379/14",
    s3_endpoint_url="http://127.0.0.1:19104",
    ports={name: {8000: 18081 + index} for index, name in enumerate(APIS)},
)


@pytest.fixture
def rendered() -> list[Manifest]:
    return app_workloads(load_plan(FIXTURE), "eco2")


def _by_name(manifests: list[Manifest]) -> dict[str, Manifest]:
    return {f"{m['kind']}/{name_of(m)}": m for m in manifests}


def test_only_the_app_namespace_config_and_workloads_are_played(rendered: list[Manifest]) -> None:
    assert [m["kind"] for m in rendered][:2] == ["ConfigMap", "Secret"]
    assert "Service" not in {m["kind"] for m in rendered}


def test_addresses_become_this_machines_wherever_they_are_defined(rendered: list[Manifest]) -> None:
    local = _by_name(localize(rendered, MACHINE))
    assert local["ConfigMap/eco2-config"]["data"]["ECO2_REDIS_URL"] == MACHINE.redis_url
    secret = {k: base64.b64decode(v).decode() for k, v in local["Secret/eco2-secrets"]["data"].items()}
    assert secret["ECO2_DATABASE_URL"] == MACHINE.database_url
    assert secret["ECO2_BROKER_URL"] == MACHINE.broker_url
    assert "plan-placeholder" in secret["ECO2_TOKEN_SIGNING_KEY"]  # MACHINE has no key: kept as rendered
    env = effective_env(
        local["Deployment/worker"]["spec"]["template"]["spec"]["containers"][0], list(local.values())
    )
    assert env["ECO2_S3_ENDPOINT_URL"] == MACHINE.s3_endpoint_url
    assert env["ECO2_S3_BUCKET"] == "eco2-dev-images"  # the bucket name stays as rendered


def test_an_env_value_from_a_secret_ref_is_replaced_too() -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {
            "containers": [
                {
                    "name": "c",
                    "image": "i",
                    "env": [
                        {
                            "name": "ECO2_DATABASE_URL",
                            "valueFrom": {"secretKeyRef": {"name": "s", "key": "db"}},
                        },
                        {"name": "OTHER", "value": "kept"},
                    ],
                }
            ]
        },
    }
    (local,) = localize([pod], MACHINE)
    assert local["spec"]["containers"][0]["env"] == [
        {"name": "ECO2_DATABASE_URL", "value": MACHINE.database_url},
        {"name": "OTHER", "value": "kept"},
    ]


def test_s3_goes_only_to_containers_that_use_the_bucket() -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "i", "env": [{"name": "X", "value": "1"}]}]},
    }
    (local,) = localize([pod], MACHINE)
    assert local["spec"]["containers"][0]["env"] == [{"name": "X", "value": "1"}]


def test_each_api_listens_on_its_own_port_and_its_probes_follow(rendered: list[Manifest]) -> None:
    local = _by_name(localize(rendered, MACHINE))
    for name, moves in MACHINE.ports.items():
        port = moves[8000]
        (container,) = local[f"Deployment/{name}"]["spec"]["template"]["spec"]["containers"]
        assert container["command"][-2:] == ["--port", str(port)]
        assert container["readinessProbe"]["httpGet"]["port"] == port  # was the named port "http"
        assert container["livenessProbe"]["httpGet"]["port"] == port  # was 8000
        assert "ports" not in container  # podman 4.3 refuses port mappings on the host network


def test_replicas_host_network_and_the_job_as_a_pod(rendered: list[Manifest]) -> None:
    local = _by_name(localize(rendered, MACHINE))
    assert local["Deployment/api-waste"]["spec"]["replicas"] == 1  # rendered: 2
    assert all(
        m["spec"]["template"]["spec"]["hostNetwork"] for k, m in local.items() if k.startswith("Deployment")
    )
    job = rendered[[name_of(m) for m in rendered].index("migrate-0-1-0")]
    pod = local["Pod/migrate-0-1-0"]
    assert pod["spec"]["restartPolicy"] == "Never"
    assert pod["metadata"]["labels"] == job["spec"]["template"]["metadata"]["labels"]
    assert pod["spec"]["containers"][0]["command"] == ["ecoeco", "migrate"]


def test_nothing_else_changes(rendered: list[Manifest]) -> None:
    local = _by_name(localize(rendered, MACHINE))
    for original in rendered:
        if original["kind"] != "Deployment":
            continue
        spec = local[f"Deployment/{name_of(original)}"]["spec"]["template"]["spec"]
        before = original["spec"]["template"]["spec"]
        assert spec["securityContext"] == before["securityContext"]
        assert spec["volumes"] == before["volumes"]
        for old, new in zip(before["containers"], spec["containers"], strict=True):
            for key in (
                "image",
                "securityContext",
                "volumeMounts",
                "resources",
                "envFrom",
                "imagePullPolicy",
            ):
                assert new.get(key) == old.get(key), key
            assert len(new["command"]) == len(old["command"])


def test_localize_is_pure(rendered: list[Manifest]) -> None:
    before = json.dumps(rendered, sort_keys=True)
    localize(rendered, MACHINE)
    assert json.dumps(rendered, sort_keys=True) == before


def test_always_pull_becomes_if_not_present(rendered: list[Manifest]) -> None:
    changed = copy.deepcopy(rendered)
    for manifest in changed:
        for container in containers(manifest):
            container["imagePullPolicy"] = "Always"
    local = localize(changed, MACHINE)
    assert {c["imagePullPolicy"] for m in local for c in containers(m)} == {"IfNotPresent"}


def test_a_port_without_a_local_port_is_refused(rendered: list[Manifest]) -> None:
    broken = copy.deepcopy(rendered)
    (container,) = broken[[name_of(m) for m in broken].index("api-users")]["spec"]["template"]["spec"][
        "containers"
    ]
    container["ports"].append({"containerPort": 9999})
    with pytest.raises(SubstitutionError, match="api-users: no local port for its containerPort 9999"):
        localize(broken, MACHINE)


def test_a_port_variable_from_a_shared_config_map_is_overridden_per_container(
    rendered: list[Manifest],
) -> None:
    changed = copy.deepcopy(rendered)
    config = changed[[name_of(m) for m in changed].index("eco2-config")]
    config["data"]["ECO2_WORKER_METRICS_PORT"] = "9100"
    worker = changed[[name_of(m) for m in changed].index("worker")]
    worker["spec"]["template"]["spec"]["containers"][0]["ports"] = [
        {"name": "metrics", "containerPort": 9100}
    ]
    machine = Machine(**{**MACHINE.__dict__, "ports": {**MACHINE.ports, "worker": {9100: 18090}}})
    local = {name_of(m): m for m in localize(changed, machine)}
    (container,) = local["worker"]["spec"]["template"]["spec"]["containers"]
    assert {"name": "ECO2_WORKER_METRICS_PORT", "value": "18090"} in container["env"]
    assert local["eco2-config"]["data"]["ECO2_WORKER_METRICS_PORT"] == "9100"  # shared: left as rendered


def test_effective_env_resolves_key_refs(rendered: list[Manifest]) -> None:
    container = {
        "name": "c",
        "env": [
            {
                "name": "A",
                "valueFrom": {"secretKeyRef": {"name": "eco2-secrets", "key": "ECO2_TOKEN_SIGNING_KEY"}},
            },
            {
                "name": "B",
                "valueFrom": {"configMapKeyRef": {"name": "eco2-config", "key": "ECO2_ENVIRONMENT"}},
            },
            {"name": "C", "valueFrom": {"secretKeyRef": {"name": "eco2-secrets", "key": "absent"}}},
        ],
    }
    env = effective_env(container, rendered)
    assert env["B"] == "dev" and "C" not in env
    assert env["A"].startswith("-----BEGIN PRIVATE KEY-----\nplan-placeholder")


def test_the_plans_placeholder_signing_key_becomes_this_runs_key(rendered: list[Manifest]) -> None:
    changed = copy.deepcopy(rendered)
    secret = changed[[name_of(m) for m in changed].index("eco2-secrets")]
    secret["stringData"] = {"ECO2_TOKEN_SIGNING_KEY": "-----BEGIN PRIVATE KEY-----\nplaceholder\n"}
    machine = Machine(**{**MACHINE.__dict__, "token_signing_key": "PEM-A", "token_public_key": "PEM-B"})
    local = {name_of(m): m for m in localize(changed, machine)}
    assert local["eco2-secrets"]["stringData"] == {"ECO2_TOKEN_SIGNING_KEY": "PEM-A"}
    assert localize(changed, MACHINE)[1]["stringData"] == secret["stringData"]  # no key given: kept
