"""Type stubs for the native core, ``patarm._core`` (hand-written; keep in step with src/python/)."""
from __future__ import annotations

__version__: str
