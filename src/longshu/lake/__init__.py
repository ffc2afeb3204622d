"""The lake (数据湖): versioned Delta tables, content-addressed multimodal objects, retention,
and the one door to raw data, ``lake.access``. See docs/lake.md."""
