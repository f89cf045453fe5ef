"""The format contract shared by the core and the plugins (DICOM, GeoTIFF, ...).

A *format* sniffs files, groups files that form one item (a DICOM series, a multi-file
multispectral capture; most formats: one file per item), reads an item into a sample
(``image``, ``meta`` and any side targets, e.g. a sidecar mask), and writes an augmented
sample back in the same format with its metadata and a provenance stamp.

The batch engine owns safety: it passes ``write`` temporary destination paths inside
OUTPUT and renames them once every file of the item is complete, so a format never
needs to think about half-written outputs. Readers raise :class:`domaug.FormatError`
(``FormatError(path, "reason")``) for anything they cannot read; the engine turns it
into one line ``error: <path>: <reason>``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Mapping, Sequence


class Format:
    """Base class of a file format. Subclass, set ``name``/``extensions``, implement read/write."""

    #: short registry name: "png", "jpeg", "tiff", "npy", "dicom", "geotiff"
    name: ClassVar[str] = ""
    #: lower-case suffixes this format claims when sniffing is inconclusive (".png")
    extensions: ClassVar[tuple[str, ...]] = ()
    #: higher wins when two formats sniff the same file (GeoTIFF over plain TIFF)
    priority: ClassVar[int] = 0

    def sniff(self, path: Path, head: bytes) -> bool:
        """True when the first bytes (up to 4096) say the file is in this format."""
        return False

    def group(self, paths: Sequence[Path]) -> list[list[Path]]:
        """Split this format's files (sorted, in one walk) into items; default one file each."""
        return [[p] for p in paths]

    def read(self, paths: Sequence[Path]) -> dict[str, Any]:
        """Read one item into a sample dict (``image``, ``meta``, side targets)."""
        raise NotImplementedError

    def output_names(self, paths: Sequence[Path], variant: int) -> list[str]:
        """File names (no folder) for variant ``variant`` of an item: ``x.aug{k}.ext`` by default."""
        names = []
        for p in paths:
            suffix = "".join(p.suffixes[-1:])
            stem = p.name[: len(p.name) - len(suffix)] if suffix else p.name
            names.append(f"{stem}.aug{variant}{suffix}")
        return names

    def write(
        self,
        sample: Mapping[str, Any],
        dest: Sequence[Path],
        *,
        sources: Sequence[Path],
        provenance: Mapping[str, Any],
    ) -> list[Path]:
        """Write ``sample`` to ``dest`` (temporary paths, one per output file; plus any sidecars).

        Returns every file written (outputs and sidecars), all of them inside the
        folders of ``dest`` so that the engine can rename them into place.
        ``provenance`` holds ``pipeline_hash``, ``seed_key``, ``applied`` and
        ``domaug_version`` for formats that can stamp it (PNG text, GeoTIFF tags,
        DICOM derivation description).
        """
        raise NotImplementedError
