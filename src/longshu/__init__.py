"""陇数 Longshu — the province's public data resource platform."""

__version__ = "0.1.0"
