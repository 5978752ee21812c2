"""Mock engine for the Eco² program: deterministic outputs per resource type and a monitor that records what
the program registered (inputs, parents, dependencies, providers, secret options) for the tests to inspect."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable
from typing import Any

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs

ACCOUNT_ID = "123456789012"
HOSTED_ZONE_ID = "Z0ECO2TESTZONE00001"
AMI_ID = "ami-0eco2ubuntu24040"
ELB_DOMAIN = "ap-northeast-2.elb.amazonaws.com"
ZONES = ["ap-northeast-2a", "ap-northeast-2b", "ap-northeast-2c", "ap-northeast-2d"]
FAKE_KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: Q0EtREFUQQ==
    server: https://10.0.0.10:6443
  name: kubernetes
contexts:
- context:
    cluster: kubernetes
    user: kubernetes-admin
  name: kubernetes-admin@kubernetes
current-context: kubernetes-admin@kubernetes
users:
- name: kubernetes-admin
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
"""

SECRET_SIG = rpc._special_secret_sig
RESOURCE_SIG = rpc._special_resource_sig


class UnknownInvokeError(RuntimeError):
    """The program called a data source the mocks do not know: add it deliberately, never return {}."""


def _short_hash(*parts: str, length: int = 17) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def _fake_secret(name: str, length: int) -> str:
    """Deterministic alphanumeric stand-in for a generated password or key body."""
    text = ""
    while len(text) < length:
        text += _short_hash(name, str(len(text)), length=64)
    return text[:length]


class Eco2Mocks(pulumi.runtime.Mocks):
    """Returns plausible, deterministic AWS/command outputs in camelCase, as the engine would."""

    def __init__(self) -> None:
        self._subnet_zones: dict[str, str] = {}
        self._subnet_cidrs: dict[str, str] = {}
        self._invokes: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "aws:index/getAvailabilityZones:getAvailabilityZones": lambda _args: {
                "names": ZONES,
                "zoneIds": [f"apne2-az{i}" for i in range(1, len(ZONES) + 1)],
                "id": "ap-northeast-2",
            },
            "aws:ec2/getAmi:getAmi": lambda _args: {
                "id": AMI_ID,
                "imageId": AMI_ID,
                "architecture": "x86_64",
            },
            "aws:index/getCallerIdentity:getCallerIdentity": lambda _args: {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/ci",
                "userId": "AIDAECO2TEST",
                "id": ACCOUNT_ID,
            },
            "aws:route53/getZone:getZone": lambda args: {
                "zoneId": HOSTED_ZONE_ID,
                "id": HOSTED_ZONE_ID,
                "name": args.get("name", ""),
            },
        }

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        handler = self._invokes.get(args.token)
        if handler is None:
            raise UnknownInvokeError(f"unmocked invoke {args.token} with {args.args}")
        return handler(args.args), []

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = dict(args.inputs)
        digest = _short_hash(args.typ, args.name)
        resource_id = f"{args.name}-{digest[:8]}"
        outputs: dict[str, Any] = {**inputs}
        typ = args.typ
        if typ == "aws:ec2/subnet:Subnet":
            resource_id = f"subnet-{digest}"
            self._subnet_zones[resource_id] = inputs["availabilityZone"]
            self._subnet_cidrs[resource_id] = inputs["cidrBlock"]
        elif typ == "aws:ec2/instance:Instance":
            resource_id = f"i-{digest}"
            subnet = inputs["subnetId"]
            network = ipaddress.IPv4Network(self._subnet_cidrs[subnet])
            outputs["availabilityZone"] = self._subnet_zones[subnet]
            outputs.setdefault("privateIp", str(network[20 + int(digest[:2], 16)]))
            outputs["publicIp"] = f"198.51.100.{int(digest[:2], 16) % 200 + 20}"
            outputs["privateDns"] = (
                f"ip-{outputs['privateIp'].replace('.', '-')}.ap-northeast-2.compute.internal"
            )
        elif typ == "aws:ec2/eip:Eip":
            resource_id = f"eipalloc-{digest}"
            outputs["publicIp"] = "203.0.113.10"
            outputs["allocationId"] = resource_id
        elif typ == "aws:acm/certificate:Certificate":
            record = f"_{digest}.{inputs['domainName']}."
            outputs["domainValidationOptions"] = [
                {
                    "domainName": domain,
                    "resourceRecordName": record,
                    "resourceRecordType": "CNAME",
                    "resourceRecordValue": f"_{digest[::-1]}.acm-validations.aws.",
                }
                for domain in [inputs["domainName"], *inputs.get("subjectAlternativeNames", [])]
            ]
        elif typ == "aws:lb/loadBalancer:LoadBalancer":
            outputs["dnsName"] = (
                f"{inputs.get('name', args.name)}-{digest[:6]}.ap-northeast-2.elb.amazonaws.com"
            )
            outputs["zoneId"] = "ZWKZPGTI48KDX"
        elif typ == "aws:route53/record:Record":
            outputs["fqdn"] = inputs["name"]
        elif typ == "aws:ec2/keyPair:KeyPair":
            outputs.setdefault("keyName", args.name)
        elif typ == "aws:s3/bucket:Bucket":
            outputs.setdefault("bucket", args.name)
            outputs["bucketRegionalDomainName"] = f"{outputs['bucket']}.s3.ap-northeast-2.amazonaws.com"
        elif typ == "random:index/randomPassword:RandomPassword":
            outputs["result"] = _fake_secret(args.name, int(inputs.get("length", 32)))
        elif typ == "tls:index/privateKey:PrivateKey":
            body = _fake_secret(args.name, 64)
            outputs["privateKeyPem"] = f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n"
            outputs["publicKeyPem"] = f"-----BEGIN PUBLIC KEY-----\n{body[::-1]}\n-----END PUBLIC KEY-----\n"
        elif typ == "command:remote:Command":
            outputs["stdout"] = self._command_stdout(args.name)
            outputs["stderr"] = ""
        if typ.startswith("aws:"):
            outputs.setdefault("arn", f"arn:aws:{typ.split(':')[1].split('/')[0]}:::{args.name}")
            outputs.setdefault("name", inputs.get("name", args.name))
        return resource_id, outputs

    @staticmethod
    def _command_stdout(name: str) -> str:
        if name.endswith("kubeconfig"):
            return FAKE_KUBECONFIG
        return ""


class RecordingMonitor(MockMonitor):
    """A mock monitor that also keeps every registration request, in order, for ordering and graph tests."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[dict[str, Any]] = []
        self._urns: set[str] = set()

    def RegisterResource(self, request: Any) -> Any:
        if request.type != "pulumi:pulumi:Stack":
            urn = self.make_urn(request.parent, request.type, request.name)
            if urn in self._urns:
                raise RuntimeError(f"duplicate resource {request.type} named {request.name!r}")
            self._urns.add(urn)
            raw_inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
            secret_paths: list[str] = []
            self.registrations.append(
                {
                    "type": request.type,
                    "name": request.name,
                    "urn": urn,
                    "custom": bool(request.custom),
                    "parent": request.parent or None,
                    "provider": _provider_urn(request.provider),
                    "dependencies": sorted(
                        set(request.dependencies)
                        | {urn for deps in request.propertyDependencies.values() for urn in deps.urns}
                    ),
                    "property_dependencies": {
                        key: sorted(deps.urns) for key, deps in request.propertyDependencies.items()
                    },
                    "inputs": _plain(raw_inputs, "", secret_paths),
                    "secret_inputs": secret_paths,
                    "additional_secret_outputs": list(request.additionalSecretOutputs),
                    "ignore_changes": list(request.ignoreChanges),
                    "replace_on_changes": list(request.replaceOnChanges),
                    "protect": bool(request.protect),
                    "delete_before_replace": bool(request.deleteBeforeReplace),
                }
            )
        return super().RegisterResource(request)  # type: ignore[no-untyped-call]


def _provider_urn(reference: str) -> str | None:
    """``urn::id`` provider references → the provider's URN; default providers are kept as they are."""
    if not reference:
        return None
    return reference.rsplit("::", 1)[0]


def _plain(value: Any, path: str, secret_paths: list[str]) -> Any:
    """Unwrap secret markers (remembering where they were), turn integral floats into ints and resource
    references into their URN, so the captured inputs are plain JSON."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == SECRET_SIG:
            secret_paths.append(path or "<root>")
            return _plain(value.get("value"), path, secret_paths)
        if value.get(rpc._special_sig_key) == RESOURCE_SIG:
            return value.get("urn")
        return {
            key: _plain(item, f"{path}.{key}" if path else key, secret_paths) for key, item in value.items()
        }
    if isinstance(value, list):
        return [_plain(item, f"{path}[{index}]", secret_paths) for index, item in enumerate(value)]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value is rpc.UNKNOWN or value == rpc.UNKNOWN:
        return "<unknown>"
    return value
