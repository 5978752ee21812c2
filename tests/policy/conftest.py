"""Make the policy pack's modules importable the way the Pulumi CLI runs them (``python policy``)."""

from tools.plan.policy import load_pack

load_pack()
