"""asynclint: a linter for the mistakes that quietly break async Python backends."""

__version__ = "0.1.0"
