"""The audit trail (审计日志): the event outbox, searchable by auditors and administrators."""
