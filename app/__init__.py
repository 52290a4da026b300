"""Innovation Atlas: regional innovation data, sourced and queryable."""

__version__ = "0.1.0"
