"""Shell scripts the bootstrap runs on the nodes, rendered from constant bodies plus a quoted variable header.

Values are never spliced into script text: each becomes a ``readonly NAME='value'`` line (``shlex.quote``), so
a domain or a YAML document cannot break out of its string. Every script is idempotent: re-running it on a
node where its work is already done changes nothing.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence

NODE_READY_MARKER = "/var/lib/eco2/node-prepared"
ADMIN_KUBECONFIG = "/etc/kubernetes/admin.conf"

JOIN_TOKEN_TTL = "15m"  # noqa: S105 - a duration, not a credential
"""Lifetime of the bootstrap token minted for one join attempt: enough for a node to join, then useless."""
JOIN_TOKEN_PLACEHOLDER = "__JOIN_TOKEN__"  # noqa: S105 - replaced on the master by a fresh token
"""Stands for the bootstrap token in a worker's join script until the master mints it (JOIN_FROM_MASTER)."""
CA_CERT_HASH_PLACEHOLDER = "__CA_CERT_HASH__"
READ_ADMIN_KUBECONFIG = f"sudo cat {ADMIN_KUBECONFIG}"
RUN_AS_ROOT = "sudo bash -s"
"""The remote command of every script: the script itself arrives on stdin."""
RUN_AS_USER = "bash -s"
CRI_ENDPOINT = "unix:///run/containerd/containerd.sock"

_NAME_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")

NODE_PREP = r"""
# Prepares an Ubuntu node for kubeadm. Every step converges; the marker is written last.
readonly KEYRING=/etc/apt/keyrings/kubernetes-apt-keyring.gpg
readonly REPO="https://pkgs.k8s.io/core:/stable:/v${K8S_MINOR}/deb/"
export DEBIAN_FRONTEND=noninteractive

if [[ -f "$MARKER" ]]; then
  echo "node already prepared"
  exit 0
fi

# kubelet refuses to start while swap is on.
swapoff -a
sed -i -E 's@^([^#].*[[:space:]]swap[[:space:]].*)$@# \1@' /etc/fstab

# Overlay filesystem for containerd; bridged traffic through iptables and IP forwarding for pods.
modprobe overlay
modprobe br_netfilter
sysctl --system >/dev/null

# A daily apt job that started before cloud-init's bootcmd held the timers off may still own the dpkg lock:
# wait for it, and retry transient mirror failures.
apt_get() {
  local attempt
  for attempt in 1 2 3 4 5; do
    if apt-get -q -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3 "$@"; then
      return 0
    fi
    echo "apt-get $* failed (attempt ${attempt}/5); retrying" >&2
    sleep $((attempt * 10))
  done
  return 1
}

# Ubuntu's cloud image ships curl and gpg; only an image without them costs a second index refresh.
if ! command -v curl >/dev/null || ! command -v gpg >/dev/null; then
  apt_get update
  apt_get install -y --no-install-recommends ca-certificates curl gpg
fi
install -d -m 0755 /etc/apt/keyrings
curl -fsSL --retry 5 "${REPO}Release.key" | gpg --dearmor --yes -o "$KEYRING"
echo "deb [signed-by=${KEYRING}] ${REPO} /" >/etc/apt/sources.list.d/kubernetes.list
# One index refresh for Ubuntu's archive and pkgs.k8s.io together, then one install.
apt_get update
package_version="$(apt-cache madison kubeadm |
  awk -v want="${K8S_VERSION}-" 'index($3, want) == 1 { print $3; exit }')"
if [[ -z "$package_version" ]]; then
  echo "kubeadm ${K8S_VERSION} is not published in ${REPO}" >&2
  exit 1
fi
# conntrack: kube-proxy and kubeadm's preflight need it; socat: kubectl port-forward.
apt_get install -y --no-install-recommends --allow-change-held-packages containerd conntrack socat \
  "kubelet=${package_version}" "kubeadm=${package_version}" "kubectl=${package_version}"
apt-mark hold kubelet kubeadm kubectl containerd

# containerd pins the pause image of this Kubernetes version; kubeadm itself knows which one that is.
expected_pause="$(kubeadm config images list --kubernetes-version "v${K8S_VERSION}" | grep '/pause:' || true)"
if [[ "$expected_pause" != "$PAUSE_IMAGE" ]]; then
  echo "warning: containerd pins ${PAUSE_IMAGE} but kubeadm ${K8S_VERSION} uses ${expected_pause:-none};" \
    "update PAUSE_VERSIONS in infra/render/cloud_init.py" >&2
fi

# containerd's config is written whole by cloud-init (systemd cgroups); it replaces the package default.
install -d -m 0755 /etc/containerd
install -m 0644 "$CONTAINERD_CONFIG" /etc/containerd/config.toml
systemctl restart containerd
systemctl enable --now containerd kubelet

# The daily apt jobs were held off while this ran (cloud-init's bootcmd); security updates resume now.
systemctl start apt-daily.timer apt-daily-upgrade.timer

install -d -m 0755 "$(dirname "$MARKER")"
touch "$MARKER"
echo "node prepared for Kubernetes ${K8S_VERSION}"
"""

WAIT_FOR_NODE = r"""
# Waits for cloud-init to finish and checks that the node prep completed.
status=0
cloud-init status --wait >/dev/null || status=$?
# 2 means "finished with recoverable warnings" (deprecated keys and the like): the marker decides.
if [[ "$status" -ne 0 && "$status" -ne 2 ]]; then
  cloud-init status --long >&2 || true
  echo "cloud-init failed (exit ${status}); see /var/log/cloud-init-output.log" >&2
  exit 1
fi
if [[ ! -f "$MARKER" ]]; then
  echo "node prep did not complete; see /var/log/cloud-init-output.log" >&2
  exit 1
fi
echo "${NODE_NAME} is ready for kubeadm"
"""

KUBEADM_INIT = r"""
# Initialises the control plane once. On a node that is already initialised it only checks the API.
readonly CONFIG_FILE=/etc/eco2/kubeadm-init.yaml

api_ready() {
  kubectl --kubeconfig "$ADMIN_CONF" get --raw=/readyz >/dev/null 2>&1
}

install -d -m 0700 /etc/eco2
(umask 077 && printf '%s\n' "$KUBEADM_CONFIG" >"$CONFIG_FILE")

if [[ -f "$ADMIN_CONF" ]]; then
  # Never reset a cluster automatically: wait for it to serve, or stop and let a person look.
  for _ in $(seq 1 60); do
    if api_ready; then
      echo "control plane on ${NODE_NAME} already initialised and ready"
      exit 0
    fi
    sleep 5
  done
  echo "${ADMIN_CONF} exists but the API server is not ready; inspect ${NODE_NAME} by hand" >&2
  exit 1
fi

# --skip-token-print keeps the bootstrap token out of the command output and the Pulumi logs.
kubeadm init --config "$CONFIG_FILE" --skip-token-print
echo "control plane on ${NODE_NAME} initialised"
"""

PULL_IMAGES = r"""
# Pulls the images this node's pods will run into containerd's Kubernetes namespace, so that their pods start
# without a pull. Each pull is retried; one that keeps failing stops the step with the registry's message.
local image attempt pulled
while IFS= read -r image; do
  [[ -n "$image" ]] || continue
  pulled=false
  for attempt in 1 2 3; do
    if crictl --runtime-endpoint "$CRI_ENDPOINT" pull "$image" >/dev/null; then
      pulled=true
      break
    fi
    echo "pull of ${image} failed (attempt ${attempt}/3); retrying" >&2
    sleep $((attempt * RETRY_SECONDS))
  done
  if [[ "$pulled" != true ]]; then
    echo "${NODE_NAME} could not pull ${image}" >&2
    exit 1
  fi
  echo "${NODE_NAME} has ${image}"
done <<<"$IMAGES"
"""

CA_CERT_HASH_FUNCTION = r"""
# kubeadm's discovery hash of a CA certificate: SHA-256 of its public key (DER SubjectPublicKeyInfo).
ca_cert_hash() {
  local digest
  digest="$(openssl x509 -pubkey -noout -in "$1" | openssl pkey -pubin -outform der | sha256sum)"
  echo "sha256:${digest%% *}"
}
"""

KUBEADM_JOIN = (
    r"""
# Joins this node to the cluster once. The config holds a bootstrap token and is removed afterwards.
readonly CONFIG_FILE=/etc/eco2/kubeadm-join.yaml
readonly CA_CERT=/etc/kubernetes/pki/ca.crt
"""
    + CA_CERT_HASH_FUNCTION
    + r"""
if [[ -f /etc/kubernetes/kubelet.conf ]]; then
  if [[ "$(ca_cert_hash "$CA_CERT")" == "$CA_CERT_HASH" ]]; then
    echo "${NODE_NAME} already joined"
    exit 0
  fi
  # The control plane was rebuilt (new CA): this node still belongs to the old cluster.
  echo "${NODE_NAME} is a member of a previous cluster; leaving it"
fi
if [[ -e "$CA_CERT" || -f /etc/kubernetes/kubelet.conf ]]; then
  # Left over from a previous cluster or from a join that stopped half-way: start clean.
  kubeadm reset --force
fi

install -d -m 0700 /etc/eco2
trap 'rm -f "$CONFIG_FILE"' EXIT
(umask 077 && printf '%s\n' "$KUBEADM_CONFIG" >"$CONFIG_FILE")
kubeadm join --config "$CONFIG_FILE"
echo "${NODE_NAME} joined"
"""
)


JOIN_FROM_MASTER = r"""
# Runs one worker's join from the master: mints a bootstrap token for this attempt only, puts it into the
# worker's join script and pipes that script to the worker over the VPC. A join retried hours later mints a
# new token instead of reusing an expired one. The deploy key exists on the master only while this runs.
local join_command token ca_cert_hash script
local token_re='--token[[:space:]]+([a-z0-9]{6}\.[a-z0-9]{16})'
local hash_re='--discovery-token-ca-cert-hash[[:space:]]+(sha256:[a-f0-9]{64})'

join_command="$(kubeadm token create --ttl "$TOKEN_TTL" --description "join ${NODE_NAME}" \
  --print-join-command)"
if [[ ! "$join_command" =~ $token_re ]]; then
  echo "kubeadm printed no bootstrap token" >&2
  exit 1
fi
token="${BASH_REMATCH[1]}"
if [[ ! "$join_command" =~ $hash_re ]]; then
  echo "kubeadm printed no CA certificate hash" >&2
  exit 1
fi
ca_cert_hash="${BASH_REMATCH[1]}"
script="${WORKER_SCRIPT//"$TOKEN_PLACEHOLDER"/"$token"}"
script="${script//"$CA_HASH_PLACEHOLDER"/"$ca_cert_hash"}"

key_file="$(mktemp)" # global: the EXIT trap runs after main returns
trap 'rm -f "$key_file"' EXIT
printf '%s\n' "$SSH_PRIVATE_KEY" >"$key_file"
printf '%s\n' "$script" | ssh -i "$key_file" -o BatchMode=yes -o ConnectTimeout=15 -o LogLevel=ERROR \
  -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "${SSH_USER}@${NODE_ADDRESS}" sudo bash -s
"""


def render_script(body: str, variables: Mapping[str, str]) -> str:
    """A bash script: strict mode, one quoted ``readonly`` per variable, then the body as one function.

    The remote steps feed scripts to ``bash -s`` on stdin. Bash reads such a script while running it, so a
    command inside that reads stdin would swallow the rest; wrapped in ``main() { ... }`` the body is parsed
    before anything executes, and inner commands only ever see end-of-file.
    """
    lines = ["#!/usr/bin/env bash", "set -euo pipefail"]
    for name, value in variables.items():
        if not _NAME_RE.match(name):
            raise ValueError(f"invalid shell variable name {name!r}")
        lines.append(f"readonly {name}={shlex.quote(value)}")
    return "\n".join(lines) + "\n\nmain() {\n" + body.strip("\n") + "\n}\n\nmain\n"


def node_prep_script(kubernetes_version: str, containerd_config_path: str, pause_image: str) -> str:
    minor = ".".join(kubernetes_version.split(".")[:2])
    return render_script(
        NODE_PREP,
        {
            "K8S_VERSION": kubernetes_version,
            "K8S_MINOR": minor,
            "CONTAINERD_CONFIG": containerd_config_path,
            "PAUSE_IMAGE": pause_image,
            "MARKER": NODE_READY_MARKER,
        },
    )


def wait_for_node_script(node_name: str) -> str:
    return render_script(WAIT_FOR_NODE, {"NODE_NAME": node_name, "MARKER": NODE_READY_MARKER})


def kubeadm_init_script(node_name: str, kubeadm_config: str) -> str:
    return render_script(
        KUBEADM_INIT,
        {"NODE_NAME": node_name, "ADMIN_CONF": ADMIN_KUBECONFIG, "KUBEADM_CONFIG": kubeadm_config},
    )


def kubeadm_join_script(node_name: str, kubeadm_config: str, ca_cert_hash: str) -> str:
    """The script a worker runs to join; from the cluster step its token and hash are still placeholders."""
    return render_script(
        KUBEADM_JOIN,
        {"NODE_NAME": node_name, "CA_CERT_HASH": ca_cert_hash, "KUBEADM_CONFIG": kubeadm_config},
    )


def join_from_master_script(
    *, node_name: str, node_address: str, ssh_user: str, ssh_private_key: str, worker_script: str
) -> str:
    """The master's side of one join: mint a token, fill it into ``worker_script``, run that on the node."""
    return render_script(
        JOIN_FROM_MASTER,
        {
            "NODE_NAME": node_name,
            "NODE_ADDRESS": node_address,
            "SSH_USER": ssh_user,
            "SSH_PRIVATE_KEY": ssh_private_key,
            "TOKEN_TTL": JOIN_TOKEN_TTL,
            "TOKEN_PLACEHOLDER": JOIN_TOKEN_PLACEHOLDER,
            "CA_HASH_PLACEHOLDER": CA_CERT_HASH_PLACEHOLDER,
            "WORKER_SCRIPT": worker_script,
        },
    )


def pull_images_script(node_name: str, images: Sequence[str], *, retry_seconds: int = 5) -> str:
    """Pulls ``images`` on the node (crictl, as the kubelet would), waiting ``retry_seconds`` × attempt
    between attempts; ValueError for an empty list or an image without a tag or digest."""
    if not images:
        raise ValueError(f"no images to pull on {node_name}")
    untagged = [image for image in images if ":" not in image.rsplit("/", 1)[-1] and "@" not in image]
    if untagged:
        raise ValueError(f"images pulled ahead must be pinned to a tag or digest: {', '.join(untagged)}")
    return render_script(
        PULL_IMAGES,
        {
            "NODE_NAME": node_name,
            "CRI_ENDPOINT": CRI_ENDPOINT,
            "RETRY_SECONDS": str(retry_seconds),
            "IMAGES": "\n".join(images),
        },
    )
