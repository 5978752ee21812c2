"""Entry point the Pulumi CLI runs (``python <pack dir>``): serves the Eco² guardrails over gRPC.

The rules live in ``eco2_policies`` so tests can import them; ``PolicyPack`` blocks forever, so it is
only constructed here.
"""

from eco2_policies import ALL_POLICIES, PACK_NAME
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name=PACK_NAME,
    policies=ALL_POLICIES,
    enforcement_level=EnforcementLevel.MANDATORY,
    description="Eco² AWS guardrails: IMDSv2, encrypted EBS, private encrypted S3, nothing but HTTP(S) "
    "from the world and only into load balancers, TLS 1.3 on HTTPS listeners, required tags.",
)
