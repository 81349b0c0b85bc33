"""Hold the package's version alone, so internal modules need not import the facade for it."""

__version__ = "0.1.0"
