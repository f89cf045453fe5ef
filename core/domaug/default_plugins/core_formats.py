"""Registers the core file formats (PNG, JPEG, TIFF, NumPy)."""

from __future__ import annotations

from ..hookspecs import hookimpl


@hookimpl
def register_formats(register):
    """PNG, JPEG, plain TIFF and NumPy ``.npy``/``.npz`` (see ``domaug.formats``)."""
    from ..formats.jpeg import JPEGFormat
    from ..formats.npy import NPYFormat
    from ..formats.png import PNGFormat
    from ..formats.tiff import TIFFFormat

    for fmt in (PNGFormat(), JPEGFormat(), TIFFFormat(), NPYFormat()):
        register(fmt)
