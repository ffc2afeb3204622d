"""Data governance (数据治理): sensitive-data discovery, classification and grading
(分类分级, GB/T 43697-2024), quality rules, scores and the quality feedback loop
(质量问题反馈 → 整改 → 复核). See docs/governance.md."""
