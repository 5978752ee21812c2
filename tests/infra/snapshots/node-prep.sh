#!/usr/bin/env bash
set -euo pipefail
readonly K8S_VERSION=1.34.2
readonly K8S_MINOR=1.34
readonly CONTAINERD_CONFIG=/etc/eco2/containerd.toml
readonly PAUSE_IMAGE=registry.k8s.io/pause:3.10.1
readonly MARKER=/var/lib/eco2/node-prepared

main() {
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
}

main
