"""Run the pack's policies in-process, over properties shaped exactly as the analyzer server shapes them.

The server wraps every property bag in pulumi-policy's unknown-checking proxy and links stack resources
by URN; doing the same here means a rule that only works on plain dicts fails these tests too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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

STACK = "dev"
PROJECT = "eco2"


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
    assert policy.validate(args, report) is None, "the Eco² rules are synchronous"
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

    assert policy.validate(StackValidationArgs(list(resources.values())), report) is None
    return violations
