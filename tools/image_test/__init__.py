"""`make image-test`: the dev stack's app workloads, as the Pulumi program renders them, run with
`podman kube play` on this machine (docs/delivery.md). Tooling only: nothing here is in the image."""
