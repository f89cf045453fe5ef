"""Registers the core file formats (PNG, JPEG, TIFF, NumPy)."""

from __future__ import annotations

from ..hookspecs import hookimpl


@hookimpl
def register_formats(register):
    """Core formats arrive with the batch engine."""
