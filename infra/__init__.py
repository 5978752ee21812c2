"""Eco²'s Pulumi program: AWS network, security, IAM, nodes, edge, storage and the kubeadm bootstrap."""
