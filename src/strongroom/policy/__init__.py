"""The IAM policy engine: pure parsing, matching and evaluation (no storage, no KMS rules).

``parse_policy`` validates and compiles a document once (cached by content); ``evaluate_policy``
lists the statements that match a request; ``decide_identity`` applies IAM's deny-allow-implicit
order to identity policies. The KMS rules (key policy first, delegation to the account, grants)
are built on top of these in ``policy.authorizer``. Semantics: ``docs/policy-semantics.md``.
"""

from __future__ import annotations

from strongroom.policy.document import (
    Effect,
    MalformedPolicy,
    PolicyDocument,
    PolicyKind,
    Statement,
    parse_policy,
)
from strongroom.policy.evaluate import (
    ConditionValue,
    Decision,
    Outcome,
    PolicyResult,
    PrincipalMatch,
    RequestContext,
    StatementRef,
    decide_identity,
    evaluate_policy,
    match_principal,
)

__all__ = [
    "ConditionValue",
    "Decision",
    "Effect",
    "MalformedPolicy",
    "Outcome",
    "PolicyDocument",
    "PolicyKind",
    "PolicyResult",
    "PrincipalMatch",
    "RequestContext",
    "Statement",
    "StatementRef",
    "decide_identity",
    "evaluate_policy",
    "match_principal",
    "parse_policy",
]
