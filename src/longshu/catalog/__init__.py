"""The public data resource catalog (公共数据资源目录): what public data exists, who provides it,
how it may be shared and opened. Resources with their fields (信息项), revisions and review,
the data element registry (一数一源), the province/city/county levels, Chinese search and
DCAT-AP export. See docs/catalog.md."""
