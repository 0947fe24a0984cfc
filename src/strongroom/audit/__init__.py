"""The audit trail: CloudTrail-format events, hash-chained, durable before the reply."""
