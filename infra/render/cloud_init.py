"""cloud-init user data: host name, kernel settings, containerd config and the node-prep script.

Everything the node needs before kubeadm is done here, at first boot, so the remote steps only wait for it.
"""

from __future__ import annotations

from infra.render import yaml_text
from infra.render.scripts import NODE_READY_MARKER, node_prep_script

CONTAINERD_CONFIG_PATH = "/etc/eco2/containerd.toml"
NODE_PREP_PATH = "/usr/local/sbin/eco2-node-prep"
PAUSE_VERSIONS = {"1.31": "3.10", "1.32": "3.10", "1.33": "3.10", "1.34": "3.10.1", "1.35": "3.10.1"}
"""The pause (sandbox) image kubeadm pins per Kubernetes minor (``kubeadm config images list``); node prep
warns if kubeadm of the configured version disagrees."""

APT_TIMERS = "apt-daily.timer apt-daily-upgrade.timer"
HOLD_APT_TIMERS = f"[ -f {NODE_READY_MARKER} ] || systemctl stop {APT_TIMERS}"
"""cloud-init's ``bootcmd`` (every boot, before the network stage): until the node is prepared, Ubuntu's daily
apt jobs must not take the dpkg lock from node prep, which starts the timers again when it is done."""

KERNEL_MODULES = "overlay\nbr_netfilter\n"
SYSCTLS = (
    "net.bridge.bridge-nf-call-iptables = 1\n"
    "net.bridge.bridge-nf-call-ip6tables = 1\n"
    "net.ipv4.ip_forward = 1\n"
)


def pause_image(kubernetes_version: str) -> str:
    """``registry.k8s.io/pause:<version>`` for a full Kubernetes version; ValueError for an unknown minor."""
    minor = ".".join(kubernetes_version.split(".")[:2])
    if minor not in PAUSE_VERSIONS:
        raise ValueError(
            f"no pause image known for Kubernetes {minor}; add it to PAUSE_VERSIONS "
            f"(known: {', '.join(PAUSE_VERSIONS)})"
        )
    return f"registry.k8s.io/pause:{PAUSE_VERSIONS[minor]}"


CONTAINERD_CONFIG = """\
# containerd for kubelet: CRI plugin with systemd cgroups (kubeadm's default cgroup driver).
# Version 2 schema: containerd 1.7 reads it natively and containerd 2.x migrates it on load.
version = 2

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{pause_image}"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = true
"""


def render_cloud_init(*, node_name: str, kubernetes_version: str) -> str:
    """``#cloud-config`` for one node; identical nodes of a role differ only by host name."""
    pause = pause_image(kubernetes_version)
    document = {
        "hostname": node_name,
        "preserve_hostname": False,
        # Resolve the new host name locally (sudo and kubeadm's preflight look it up).
        "manage_etc_hosts": True,
        "bootcmd": [HOLD_APT_TIMERS],
        "write_files": [
            {"path": "/etc/modules-load.d/kubernetes.conf", "permissions": "0644", "content": KERNEL_MODULES},
            {"path": "/etc/sysctl.d/90-kubernetes.conf", "permissions": "0644", "content": SYSCTLS},
            {
                "path": CONTAINERD_CONFIG_PATH,
                "permissions": "0644",
                "content": CONTAINERD_CONFIG.format(pause_image=pause),
            },
            {
                "path": NODE_PREP_PATH,
                "permissions": "0755",
                "content": node_prep_script(kubernetes_version, CONTAINERD_CONFIG_PATH, pause),
            },
        ],
        "runcmd": [[NODE_PREP_PATH]],
    }
    return "#cloud-config\n" + yaml_text.dump(document)
