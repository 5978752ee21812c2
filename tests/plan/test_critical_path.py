"""The critical path on synthetic graphs, and the duration table's own rules."""

from __future__ import annotations

import itertools

import pytest

from tests.plan.synthetic import captured, urn
from tools.plan.critical_path import DurationTable, critical_path
from tools.plan.harness import STACKS, run_stack

TABLE = DurationTable(
    {
        "default": {"seconds": 1, "source": "test"},
        "types": {"t:a:A": {"seconds": 10, "source": "test"}, "t:d:D": {"seconds": 30, "source": "test"}},
        "commands": [
            {"pattern": "kubeadm-join-*", "seconds": 60, "source": "test"},
            {"pattern": "kubeadm-init", "seconds": 120, "source": "test"},
        ],
        "releases": {
            "default": {"seconds": 100, "source": "test"},
            "tigera-operator": {"seconds": 180, "source": "test"},
        },
        "prefixes": {"random:": {"seconds": 0, "source": "test"}},
    }
)
COMPONENT = "eco2:test:Component"


def test_the_longest_chain_through_dependencies_parents_and_components() -> None:
    a = captured("t:a:A", "a")
    b = captured("t:b:B", "b", dependencies=[a.urn])
    component = captured(COMPONENT, "group", custom=False, dependencies=[a.urn])
    # D has no dependency of its own but starts after what its parent waits for (A).
    d = captured("t:d:D", "d", parent=component.urn)
    short = captured("t:b:B", "short", parent=component.urn)
    # E waits for the component, i.e. for all its children.
    e = captured("t:b:B", "e", dependencies=[component.urn])
    path = critical_path([a, b, component, d, short, e], TABLE)
    assert path.total_seconds == 41
    assert [(step.name, step.start, step.finish) for step in path.steps] == [
        ("a", 0, 10),
        ("d", 10, 40),
        ("e", 40, 41),
    ]


def test_a_resource_waits_for_its_provider() -> None:
    join = captured("command:remote:Command", "kubeadm-join-api-1")
    provider = captured("pulumi:providers:kubernetes", "cluster", dependencies=[join.urn])
    namespace = captured("kubernetes:core/v1:Namespace", "eco2", provider=provider.urn)
    path = critical_path([join, provider, namespace], TABLE)
    assert [step.name for step in path.steps] == ["kubeadm-join-api-1", "cluster", "eco2"]
    assert path.total_seconds == 62


def test_durations_by_command_name_release_chart_and_prefix() -> None:
    resources = [
        captured("command:remote:Command", "kubeadm-init"),
        captured("command:remote:Command", "kubeadm-join-redis"),
        captured("command:remote:Command", "something-else"),
        captured("kubernetes:helm.sh/v3:Release", "calico", {"chart": "tigera-operator"}),
        captured("kubernetes:helm.sh/v3:Release", "other", {"chart": "oci://ghcr.io/x/charts/other"}),
        captured("random:index/randomPassword:RandomPassword", "password"),
    ]
    looked_up = {
        resource.name: (TABLE.lookup(resource).seconds, TABLE.lookup(resource).rule) for resource in resources
    }
    assert looked_up == {
        "kubeadm-init": (120, "commands[kubeadm-init]"),
        "kubeadm-join-redis": (60, "commands[kubeadm-join-*]"),
        "something-else": (1, "default"),
        "calico": (180, "releases[tigera-operator]"),
        "other": (100, "releases[default]"),
        "password": (0, "prefixes[random:]"),
    }
    path = critical_path(resources, TABLE)
    assert path.fallbacks == {"command:remote:Command": 1, "random:index/randomPassword:RandomPassword": 1}


def test_a_dependency_cycle_is_reported() -> None:
    a = captured("t:a:A", "a", dependencies=[urn("t:b:B", "b")])
    b = captured("t:b:B", "b", dependencies=[a.urn])
    with pytest.raises(ValueError, match="dependency cycle"):
        critical_path([a, b], TABLE)


def test_every_duration_in_the_repo_table_states_its_source() -> None:
    for entry in DurationTable.load().entries():
        assert entry["seconds"] >= 0
        assert len(entry["source"]) > 10, entry


def test_skip_await_takes_the_apply_time_only() -> None:
    table = DurationTable(
        {
            "default": {"seconds": 1, "source": "test"},
            "skip_await": {"seconds": 3, "source": "test"},
            "types": {"kubernetes:apps/v1:Deployment": {"seconds": 90, "source": "test"}},
            "releases": {"default": {"seconds": 100, "source": "test"}},
        }
    )
    annotated = {"metadata": {"annotations": {"pulumi.com/skipAwait": "true"}}}
    waiting = captured("kubernetes:apps/v1:Deployment", "waits", {"metadata": {}})
    skipping = captured("kubernetes:apps/v1:Deployment", "skips", annotated)
    release = captured("kubernetes:helm.sh/v3:Release", "release", {"skipAwait": True})
    assert [table.lookup(r).seconds for r in (waiting, skipping, release)] == [90, 3, 3]


@pytest.mark.parametrize("stack", STACKS)
def test_the_real_graph_has_a_contiguous_path_through_the_bootstrap(stack: str) -> None:
    resources = run_stack(stack).resources
    path = critical_path(resources, DurationTable.load())
    names = [step.name for step in path.steps]
    after_init = names[names.index("kubeadm-init") + 1 :]
    # The provider needs only the kubeconfig; the joins run beside the CNI install, off the path.
    assert after_init[:2] == ["kubeconfig", "kubernetes"], names
    assert not any(name.startswith("kubeadm-join-") for name in names), names
    for before, after in itertools.pairwise(path.steps):
        assert after.start == before.finish, (before, after)
    assert path.total_seconds == path.steps[-1].finish
