#!/usr/bin/env bash
set -euo pipefail
readonly NODE_NAME=postgresql
readonly CA_CERT_HASH=__CA_CERT_HASH__
readonly KUBEADM_CONFIG='apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: 10.0.0.10:6443
    token: __JOIN_TOKEN__
    caCertHashes:
    - __CA_CERT_HASH__
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
readonly CA_CERT=/etc/kubernetes/pki/ca.crt

# kubeadm's discovery hash of a CA certificate: SHA-256 of its public key (DER SubjectPublicKeyInfo).
ca_cert_hash() {
  local digest
  digest="$(openssl x509 -pubkey -noout -in "$1" | openssl pkey -pubin -outform der | sha256sum)"
  echo "sha256:${digest%% *}"
}

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
}

main
