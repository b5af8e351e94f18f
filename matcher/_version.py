"""The library version, recorded in index manifests and engine versions."""

__version__ = "0.1.0"
