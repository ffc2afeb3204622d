"""Government data sharing and exchange (政务数据共享): share requests, grants, query,
verification (核验) and batch exchange (批量交换), return flows (数据回流), duty lists
(共享责任清单). See docs/sharing.md."""
