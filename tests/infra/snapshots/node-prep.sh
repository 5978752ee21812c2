#!/usr/bin/env bash
set -euo pipefail
readonly K8S_VERSION=1.34.2
readonly K8S_MINOR=1.34
readonly CONTAINERD_CONFIG=/etc/eco2/containerd.toml
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

apt-get update -q
apt-get install -y -q apt-transport-https ca-certificates curl gpg containerd
install -d -m 0755 /etc/apt/keyrings
curl -fsSL --retry 5 "${REPO}Release.key" | gpg --dearmor --yes -o "$KEYRING"
echo "deb [signed-by=${KEYRING}] ${REPO} /" >/etc/apt/sources.list.d/kubernetes.list
apt-get update -q
package_version="$(apt-cache madison kubeadm |
  awk -v want="${K8S_VERSION}-" 'index($3, want) == 1 { print $3; exit }')"
if [[ -z "$package_version" ]]; then
  echo "kubeadm ${K8S_VERSION} is not published in ${REPO}" >&2
  exit 1
fi
apt-get install -y -q --allow-change-held-packages \
  "kubelet=${package_version}" "kubeadm=${package_version}" "kubectl=${package_version}"
apt-mark hold kubelet kubeadm kubectl containerd

# containerd's config is written whole by cloud-init (systemd cgroups); it replaces the package default.
install -d -m 0755 /etc/containerd
install -m 0644 "$CONTAINERD_CONFIG" /etc/containerd/config.toml
systemctl restart containerd
systemctl enable --now containerd kubelet

install -d -m 0755 "$(dirname "$MARKER")"
touch "$MARKER"
echo "node prepared for Kubernetes ${K8S_VERSION}"
}

main
