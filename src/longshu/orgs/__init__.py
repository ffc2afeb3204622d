"""Regions (行政区划) and organisations: departments, operators, enterprises."""
