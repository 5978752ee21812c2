"""Run the policy pack (policy/) in-process, over properties shaped exactly as the analyzer server does.

The server wraps every property bag in pulumi-policy's unknown-checking proxy and links stack resources
by URN; doing the same here means a rule that only works on plain dicts fails here too. ``make plan`` runs
every rule over a program run with :func:`program_violations`; tests/policy drives single rules with
:func:`validate_resource` and :func:`validate_stack`.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import unknown_checking_proxy

from tools.plan.harness import CapturedResource
from tools.plan.stack_runner import stack_config

STACK = "dev"
PROJECT = "eco2"
POLICY_DIR = Path(__file__).resolve().parents[2] / "policy"
"""The pack's directory: the CLI runs it as ``python policy``, so its modules import each other top-level."""


def load_pack() -> ModuleType:
    """``eco2_policies``, imported the way the Pulumi CLI runs the pack (its directory on ``sys.path``)."""
    if str(POLICY_DIR) not in sys.path:
        sys.path.insert(0, str(POLICY_DIR))
    return importlib.import_module("eco2_policies")


def urn_of(type_: str, name: str) -> str:
    return f"urn:pulumi:{STACK}::{PROJECT}::{type_}::{name}"


def _options(parent: str | None = None) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=False,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=parent,
    )


def provider(
    type_: str, name: str, props: Mapping[str, Any], urn: str | None = None
) -> PolicyProviderResource:
    return PolicyProviderResource(
        type_, unknown_checking_proxy(dict(props)), urn or urn_of(type_, name), name
    )


def validate_resource(
    policy: ResourceValidationPolicy,
    type_: str,
    props: Mapping[str, Any],
    *,
    name: str = "subject",
    provider_resource: PolicyProviderResource | None = None,
    config: Mapping[str, Any] | None = None,
) -> list[str]:
    """The violation messages ``policy`` reports for one resource."""
    messages: list[str] = []

    def report(message: str, urn: str | None = None) -> None:
        messages.append(message)

    args = ResourceValidationArgs(
        type_,
        unknown_checking_proxy(dict(props)),
        urn_of(type_, name),
        name,
        _options(),
        provider_resource,
        config,
    )
    if policy.validate(args, report) is not None:
        raise TypeError(f"policy {policy.name} is asynchronous; the Eco² rules are synchronous")
    return messages


@dataclass(frozen=True)
class StackEntry:
    """One resource of a stack, as the engine describes it to a stack policy."""

    type_: str
    name: str
    props: Mapping[str, Any]
    urn: str = ""
    property_dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)

    @property
    def resolved_urn(self) -> str:
        return self.urn or urn_of(self.type_, self.name)


@dataclass(frozen=True)
class Violation:
    message: str
    urn: str | None


def validate_stack(policy: StackValidationPolicy, entries: Sequence[StackEntry]) -> list[Violation]:
    """The violations ``policy`` reports for a stack; dependencies are linked by URN as the server does."""
    resources = {
        entry.resolved_urn: PolicyResource(
            entry.type_,
            unknown_checking_proxy(dict(entry.props)),
            entry.resolved_urn,
            entry.name,
            _options(),
            None,
            None,
            [],
            {},
        )
        for entry in entries
    }
    for entry in entries:
        resource = resources[entry.resolved_urn]
        for key, urns in entry.property_dependencies.items():
            resource.property_dependencies[key] = [resources[urn] for urn in urns if urn in resources]
            resource.dependencies.extend(resources[urn] for urn in urns if urn in resources)
    violations: list[Violation] = []

    def report(message: str, urn: str | None = None) -> None:
        violations.append(Violation(message, urn))

    if policy.validate(StackValidationArgs(list(resources.values())), report) is not None:
        raise TypeError(f"policy {policy.name} is asynchronous; the Eco² rules are synchronous")
    return violations


def _default_aws_provider(stack: str) -> PolicyProviderResource:
    """The engine's default aws provider: its inputs are the stack's ``aws:*`` config values (as text)."""
    props = {
        key.split(":", 1)[1]: value for key, value in stack_config(stack).items() if key.startswith("aws:")
    }
    return provider("pulumi:providers:aws", "default", props)


def program_violations(stack: str, resources: Sequence[CapturedResource]) -> list[str]:
    """``[policy-name] message`` for every violation of every resource and stack policy over a program run.

    Each resource is checked with its provider as the engine passes it: an explicit provider with its captured
    inputs, else for AWS resources the default provider built from the stack's ``aws:*`` config.
    """
    pack = load_pack()
    explicit = {
        resource.urn: provider(resource.type_, resource.name, resource.inputs, urn=resource.urn)
        for resource in resources
        if resource.type_.startswith("pulumi:providers:")
    }
    default_aws = _default_aws_provider(stack)
    found: list[str] = []
    for resource in resources:
        if resource.provider:
            resource_provider: PolicyProviderResource | None = explicit.get(resource.provider)
        else:
            resource_provider = default_aws if resource.type_.startswith("aws:") else None
        for resource_policy in pack.RESOURCE_POLICIES:
            messages = validate_resource(
                resource_policy,
                resource.type_,
                resource.inputs,
                name=resource.name,
                provider_resource=resource_provider,
            )
            found.extend(f"[{resource_policy.name}] {message}" for message in messages)
    entries = [
        StackEntry(r.type_, r.name, r.inputs, urn=r.urn, property_dependencies=r.property_dependencies)
        for r in resources
    ]
    for stack_policy in pack.STACK_POLICIES:
        found.extend(f"[{stack_policy.name}] {v.message}" for v in validate_stack(stack_policy, entries))
    return found
