#!/usr/bin/env bash
set -euo pipefail
readonly NODE_NAME=postgresql
readonly KUBEADM_CONFIG='apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: 10.0.0.10:6443
    token: abcdef.0123456789abcdef
    caCertHashes:
    - sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
nodeRegistration:
  name: postgresql
  criSocket: unix:///run/containerd/containerd.sock
  kubeletExtraArgs:
  - name: provider-id
    value: aws:///ap-northeast-2c/i-0bbbbbbbbbbbbbbb2
  - name: node-ip
    value: 10.0.32.7
  - name: node-labels
    value: eco2.io/role=postgresql
  taints:
  - key: eco2.io/role
    value: postgresql
    effect: NoSchedule
'

main() {
# Joins this node to the cluster once. The config holds a bootstrap token and is removed afterwards.
readonly CONFIG_FILE=/etc/eco2/kubeadm-join.yaml

if [[ -f /etc/kubernetes/kubelet.conf ]]; then
  echo "${NODE_NAME} already joined"
  exit 0
fi
if [[ -e /etc/kubernetes/pki/ca.crt ]]; then
  # A previous join stopped half-way (no kubelet.conf): this node is not a member yet, start clean.
  kubeadm reset --force
fi

install -d -m 0700 /etc/eco2
trap 'rm -f "$CONFIG_FILE"' EXIT
(umask 077 && printf '%s\n' "$KUBEADM_CONFIG" >"$CONFIG_FILE")
kubeadm join --config "$CONFIG_FILE"
echo "${NODE_NAME} joined"
}

main
