"""Sensitive-data discovery (敏感数据识别): detectors for Chinese identifiers and personal
information, and their use on a column. See docs/governance.md."""
