#!/usr/bin/env bash
set -euo pipefail
readonly NODE_NAME=master
readonly ADMIN_CONF=/etc/kubernetes/admin.conf
readonly KUBEADM_CONFIG='apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: 10.0.0.10
  bindPort: 6443
nodeRegistration:
  name: master
  criSocket: unix:///run/containerd/containerd.sock
  kubeletExtraArgs:
  - name: provider-id
    value: aws:///ap-northeast-2a/i-0123456789abcdef0
  - name: node-ip
    value: 10.0.0.10
  - name: node-labels
    value: eco2.io/role=master
  taints:
  - key: node-role.kubernetes.io/control-plane
    effect: NoSchedule
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
clusterName: eco2-prod
kubernetesVersion: v1.34.2
controlPlaneEndpoint: 10.0.0.10:6443
networking:
  podSubnet: 192.168.0.0/16
  serviceSubnet: 10.96.0.0/12
  dnsDomain: cluster.local
apiServer:
  certSANs:
  - k8s.eco2.example.com
  - 203.0.113.10
  - 10.0.0.10
  - master
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
serverTLSBootstrap: true
'

main() {
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
}

main
