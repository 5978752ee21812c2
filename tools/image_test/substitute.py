"""The one substitution between the manifests the Pulumi program renders and what runs on this machine.

`localize` is pure and is the only place a rendered manifest is changed. It changes exactly what must differ
when every pod shares one machine's network, and nothing else (security context, commands, probes, volumes,
resources and every other setting stay as rendered):

1. Addresses: ECO2_DATABASE_URL, ECO2_BROKER_URL and ECO2_REDIS_URL become this machine's throwaway database,
   vhost and Redis database wherever they are defined (ConfigMap data, Secret data/stringData, container env).
   The image bucket becomes the embedded S3 server: every container that declares ECO2_S3_BUCKET gets its
   endpoint and the server's (meaningless) credentials; in AWS the endpoint is the default and the
   credentials come from the instance role.
2. Listen ports: every container port of every Deployment moves to its own free local port, and with it the
   probes, `--port` arguments and *_PORT variables that carried the old number (host networking: five APIs
   cannot all listen on 8000, nor three workers serve metrics on 9100). A *_PORT variable that comes from a
   ConfigMap or Secret shared by several Deployments is overridden in each container's own env.
3. Replicas: 1 per Deployment (replicas on one host network would fight over the same port).
4. Image pulls: `imagePullPolicy: Always` becomes IfNotPresent (no registry is reachable; the image is the one
   `make image` built, tagged with the manifest's own reference).
5. Host network: every pod gets `hostNetwork: true` (traffic stays on loopback; podman's bridge would use a
   private range). On the host network a container's port is simply the port its process listens on, and
   podman 4.3 refuses declared `ports` there ("PortMappings can only be used with Bridge"): probes that name
   a port get its number, then the `ports` lists are dropped.
6. Generated keys: ECO2_TOKEN_SIGNING_KEY (and its public half ECO2_TOKEN_PUBLIC_KEY, where a verify-only
   service gets it) become a key made for this run, wherever they are defined. In AWS pulumi-tls generates
   the key; the plan's mock engine renders a placeholder PEM in its place, which the services rightly refuse.
7. Kind: a Job becomes a Pod with the Job's pod template (podman 4.3 cannot play Jobs); its restartPolicy is
   the template's own (Never or OnFailure).
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tools.image_test.manifests import Manifest, containers, effective_env, name_of, pod_spec

S3_BUCKET_SETTING = "ECO2_S3_BUCKET"
S3_SETTINGS = ("ECO2_S3_ENDPOINT_URL", "ECO2_S3_ACCESS_KEY_ID", "ECO2_S3_SECRET_ACCESS_KEY")


@dataclass(frozen=True)
class Machine:
    """This machine's services for one image-test run, and a listen port per API Deployment."""

    database_url: str
    broker_url: str
    redis_url: str
    s3_endpoint_url: str
    s3_access_key_id: str = "local"
    s3_secret_access_key: str = "local-secret"  # noqa: S105 - the embedded server checks no signature
    token_signing_key: str = ""  # PEM; empty: the rendered key is kept
    token_public_key: str = ""
    ports: Mapping[str, Mapping[int, int]] = field(default_factory=dict)
    """Deployment name → {rendered containerPort: local port}."""

    def replaced(self) -> dict[str, str]:
        """The settings replaced wherever the manifests define them (rules 1 and 6)."""
        values = {
            "ECO2_DATABASE_URL": self.database_url,
            "ECO2_BROKER_URL": self.broker_url,
            "ECO2_REDIS_URL": self.redis_url,
        }
        if self.token_signing_key:
            values |= {
                "ECO2_TOKEN_SIGNING_KEY": self.token_signing_key,
                "ECO2_TOKEN_PUBLIC_KEY": self.token_public_key,
            }
        return values

    def s3(self) -> dict[str, str]:
        return {
            "ECO2_S3_ENDPOINT_URL": self.s3_endpoint_url,
            "ECO2_S3_ACCESS_KEY_ID": self.s3_access_key_id,
            "ECO2_S3_SECRET_ACCESS_KEY": self.s3_secret_access_key,
        }


class SubstitutionError(ValueError):
    """The manifests cannot be localised (e.g. an API Deployment without a port to move)."""


def localize(manifests: Sequence[Manifest], machine: Machine) -> list[Manifest]:
    """The manifests as they run on this machine (see the module docstring for the complete list)."""
    sources = _env_sources(manifests)
    localized = []
    for original in manifests:
        manifest = copy.deepcopy(original)
        kind = manifest["kind"]
        if kind == "ConfigMap":
            _replace_values(manifest.get("data", {}), machine.replaced(), encode=False)
        elif kind == "Secret":
            _replace_values(manifest.get("stringData", {}), machine.replaced(), encode=False)
            _replace_values(manifest.get("data", {}), machine.replaced(), encode=True)
        else:
            for container in containers(manifest):
                _localize_container(container, machine, sources)
                container_pull = container.get("imagePullPolicy")
                if container_pull == "Always":
                    container["imagePullPolicy"] = "IfNotPresent"
            pod_spec(manifest)["hostNetwork"] = True
            if kind == "Deployment":
                manifest["spec"]["replicas"] = 1
                _move_ports(manifest, machine.ports.get(name_of(manifest), {}), manifests)
            for container in containers(manifest):
                _number_probe_ports(container)
                container.pop("ports", None)
            if kind == "Job":
                manifest = _job_as_pod(manifest)
        localized.append(manifest)
    return localized


def _env_sources(manifests: Sequence[Manifest]) -> dict[tuple[str, str], set[str]]:
    """(kind, name) of each ConfigMap and Secret → the keys it defines."""
    keys: dict[tuple[str, str], set[str]] = {}
    for manifest in manifests:
        if manifest["kind"] in ("ConfigMap", "Secret"):
            defined = set(manifest.get("data", {})) | set(manifest.get("stringData", {}))
            keys[(manifest["kind"], name_of(manifest))] = defined
    return keys


def declared_settings(container: dict[str, Any], sources: Mapping[tuple[str, str], set[str]]) -> set[str]:
    """Every variable the container gets: its env entries and the keys of its envFrom sources."""
    names = {entry["name"] for entry in container.get("env", [])}
    for source in container.get("envFrom", []):
        prefix = source.get("prefix", "")
        for kind, reference in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
            if reference in source:
                names |= {prefix + key for key in sources.get((kind, source[reference]["name"]), set())}
    return names


def _replace_values(data: dict[str, str], values: Mapping[str, str], *, encode: bool) -> None:
    for key, value in values.items():
        if key in data:
            data[key] = base64.b64encode(value.encode()).decode() if encode else value


def _localize_container(
    container: dict[str, Any], machine: Machine, sources: Mapping[tuple[str, str], set[str]]
) -> None:
    declared = declared_settings(container, sources)
    env = container.get("env", [])
    replaced = machine.replaced()
    for entry in env:
        if entry["name"] in replaced:
            entry.pop("valueFrom", None)
            entry["value"] = replaced[entry["name"]]
    if S3_BUCKET_SETTING in declared:
        env = [entry for entry in env if entry["name"] not in S3_SETTINGS]
        env += [{"name": name, "value": value} for name, value in machine.s3().items()]
    if env:
        container["env"] = env


def _move_ports(deployment: Manifest, moves: Mapping[int, int], manifests: Sequence[Manifest]) -> None:
    for container in pod_spec(deployment)["containers"]:
        inherited = effective_env({**container, "env": []}, manifests)
        for declared in container.get("ports", []):
            old = declared["containerPort"]
            if old not in moves:
                raise SubstitutionError(
                    f"Deployment {name_of(deployment)}: no local port for its containerPort {old}"
                )
            declared["containerPort"] = moves[old]
            if "hostPort" in declared:
                declared["hostPort"] = moves[old]
            _rewrite_port(container, old, moves[old])
            own = {entry["name"] for entry in container.get("env", [])}
            for key, value in inherited.items():
                if key.endswith("PORT") and value == str(old) and key not in own:
                    container.setdefault("env", []).append({"name": key, "value": str(moves[old])})


def _rewrite_port(container: dict[str, Any], old: int, new: int) -> None:
    for key in ("command", "args"):
        words = container.get(key)
        if words:
            container[key] = [_rewrite_word(words, index, old, new) for index in range(len(words))]
    for probe_name in ("readinessProbe", "livenessProbe", "startupProbe"):
        probe = container.get(probe_name, {})
        for handler in ("httpGet", "tcpSocket"):
            if probe.get(handler, {}).get("port") == old:
                probe[handler]["port"] = new
    for entry in container.get("env", []):
        if entry["name"].endswith("PORT") and entry.get("value") == str(old):
            entry["value"] = str(new)


def _rewrite_word(words: list[str], index: int, old: int, new: int) -> str:
    word = words[index]
    if word == f"--port={old}":
        return f"--port={new}"
    if word == str(old) and index > 0 and words[index - 1] == "--port":
        return str(new)
    return word.replace(f"--port {old}", f"--port {new}").replace(f"--port={old}", f"--port={new}")


def _number_probe_ports(container: dict[str, Any]) -> None:
    numbers = {declared.get("name"): declared["containerPort"] for declared in container.get("ports", [])}
    for probe_name in ("readinessProbe", "livenessProbe", "startupProbe"):
        for handler in ("httpGet", "tcpSocket"):
            target = container.get(probe_name, {}).get(handler)
            if target is not None and isinstance(target.get("port"), str):
                if target["port"] not in numbers:
                    raise SubstitutionError(
                        f"container {container['name']}: no port named {target['port']!r}"
                    )
                target["port"] = numbers[target["port"]]


def _job_as_pod(job: Manifest) -> Manifest:
    template = job["spec"]["template"]
    metadata = {**template.get("metadata", {}), "name": name_of(job)}
    if "namespace" in job["metadata"]:
        metadata["namespace"] = job["metadata"]["namespace"]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": template["spec"]}
