"""The single place where jobwidget's version is set."""

__version__ = "0.1.0"
