"""Open data (数据开放): the public face of the catalog — the CKAN-compatible Action API
(``ckan.py``) for published, open entries. See docs/opendata.md."""
