"""Harvesters: department feeds into the GovService CKAN (extract → validate →
normalise → compare → load → report)."""
__version__ = "0.1.0"
