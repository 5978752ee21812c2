"""Node roles: the scheduling contract the workloads build on (labels, taints, tolerations)."""

from __future__ import annotations

from infra.roles import API_ROLE, CONTROL_PLANE_ROLE, ROLE_LABEL, ROLES, IamProfile


def test_the_seven_roles_and_what_may_scale():
    assert list(ROLES) == ["master", "api", "async", "monitoring", "postgresql", "rabbitmq", "redis"]
    assert {name for name, role in ROLES.items() if role.scalable} == {"api", "async"}
    assert CONTROL_PLANE_ROLE in ROLES and API_ROLE in ROLES


def test_stateful_roles_are_tainted_and_need_a_matching_toleration():
    for name in ("monitoring", "postgresql", "rabbitmq", "redis"):
        role = ROLES[name]
        assert role.taints == [{"key": ROLE_LABEL, "value": name, "effect": "NoSchedule"}]
        assert role.tolerations == [
            {"key": ROLE_LABEL, "value": name, "effect": "NoSchedule", "operator": "Equal"}
        ]
        assert role.node_selector == {"eco2.io/role": name}
        assert role.iam_profile is IamProfile.STATEFUL


def test_app_roles_take_any_pod_and_may_use_the_bucket():
    for name in ("api", "async"):
        assert ROLES[name].taints == [] and ROLES[name].tolerations == []
        assert ROLES[name].iam_profile is IamProfile.APP
    assert ROLES["master"].iam_profile is IamProfile.CONTROL_PLANE
