"""What kubelet would refuse or a probe would report, checked against the localized manifests.

podman runs the security context it is given (user, read-only root, emptyDirs) but does not refuse a
`runAsNonRoot` pod whose effective user is root, and it does not evaluate readiness probes: both are done
here.
"""

from __future__ import annotations

import http.client
import socket
from collections.abc import Callable
from typing import Any

from tools.image_test.manifests import Manifest, name_of, pod_spec


def effective_user(manifest: Manifest, container: dict[str, Any], image_user: str) -> str:
    pod_context = pod_spec(manifest).get("securityContext", {})
    context = {**pod_context, **container.get("securityContext", {})}
    if "runAsUser" in context:
        return str(context["runAsUser"])
    return image_user.split(":")[0] or "0"


def security_problems(manifest: Manifest, image_user: str) -> list[str]:
    """Kubelet's runAsNonRoot check: the effective user must be numeric and not 0 (root)."""
    problems = []
    pod_context = pod_spec(manifest).get("securityContext", {})
    for container in pod_spec(manifest)["containers"]:
        context = {**pod_context, **container.get("securityContext", {})}
        if not context.get("runAsNonRoot"):
            continue
        user = effective_user(manifest, container, image_user)
        if not user.isdigit():
            problems.append(
                f"{name_of(manifest)}/{container['name']}: runAsNonRoot needs a numeric user, the image "
                f"runs as {user!r} (kubelet: 'image has non-numeric user')"
            )
        elif int(user) == 0:
            problems.append(
                f"{name_of(manifest)}/{container['name']}: runAsNonRoot, but the user is root (0)"
            )
    return problems


def container_port(container: dict[str, Any], port: int | str) -> int:
    """A probe's port: a number, or the name of one of the container's ports."""
    if isinstance(port, int):
        return port
    for declared in container.get("ports", []):
        if declared.get("name") == port:
            return int(declared["containerPort"])
    raise ValueError(f"container {container['name']} has no port named {port!r}")


def probe_check(
    container: dict[str, Any], probe: dict[str, Any], run_exec: Callable[[list[str]], bool]
) -> bool:
    """One attempt of a Kubernetes probe against 127.0.0.1 (the pods share the host's network)."""
    timeout = float(probe.get("timeoutSeconds", 1)) + 1
    if "httpGet" in probe:
        handler = probe["httpGet"]
        connection = http.client.HTTPConnection(
            "127.0.0.1", container_port(container, handler["port"]), timeout=timeout
        )
        try:
            connection.request("GET", handler.get("path", "/"))
            return 200 <= connection.getresponse().status < 400
        except OSError:
            return False
        finally:
            connection.close()
    if "tcpSocket" in probe:
        try:
            with socket.create_connection(
                ("127.0.0.1", container_port(container, probe["tcpSocket"]["port"])), timeout
            ):
                return True
        except OSError:
            return False
    if "exec" in probe:
        return run_exec(list(probe["exec"]["command"]))
    raise ValueError(f"container {container['name']}: unsupported probe {sorted(probe)}")
