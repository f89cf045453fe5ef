"""The format contract shared by the core and the plugins (DICOM, GeoTIFF, ...).

A *format* sniffs files, groups files that form one item (a DICOM series, a multi-file
multispectral capture; most formats: one file per item), reads an item into a sample
(``image``, ``meta`` and any side targets, e.g. a sidecar mask), and writes an augmented
sample back in the same format with its metadata and a provenance stamp.

Choosing a format (:mod:`domaug.formats.registry`): every registered format's ``sniff``
sees the first 4096 bytes of a file; among those that say yes the highest ``priority``
wins (GeoTIFF 10 over plain TIFF 0). When none says yes, the file's extension decides
(the reader then fails with a precise reason, e.g. a text file named ``.png``). A file
neither sniffed nor claimed by extension is skipped by ``domaug run``.

The batch engine owns safety: it passes ``write`` temporary destination paths inside
OUTPUT, named ``<temporary prefix><final name>`` (e.g. ``.domaug-tmp-3f2a.x.aug0.png``),
and renames every returned path to its name without the prefix once every file of
the item is complete (after fsync); on any error it deletes them. A format therefore
never needs to think about half-written outputs, but it must name any extra file it
writes (a sidecar, a second file of a series) by adding to the *name of a dest path*
so that the prefix is kept: :func:`sidecar_path` does that. Readers raise
:class:`domaug.FormatError` (``FormatError(path, "reason")``) with a one-line reason
for anything they cannot read; the engine turns it into one line
``error: <path>: <reason>``.

Sidecars (core convention, :mod:`domaug.formats.sidecar`): ``x.png`` may come with
``x.mask.png`` (label map → ``mask``), ``x.<name>_mask.png`` (→ ``<name>_mask``),
``x.boxes.json`` (→ ``bboxes``) and ``x.keypoints.json`` (→ ``keypoints``). Sidecar
files are never inputs on their own. Plugin formats may call
:func:`domaug.formats.sidecar.read_sidecars` / ``write_sidecars`` to share it.

Windowed processing (optional capability, for images larger than memory): a format
may implement ``open_windows(paths) -> WindowedSource`` and
``create_windows(source, dest, *, sources, provenance) -> WindowedSink``; see
:class:`WindowedSource` and :class:`WindowedSink` (``open_windows`` may return None to
decline an item, e.g. one with sidecars; the engine then reads it whole). The core's
``.npy`` format implements it with memory maps (:mod:`domaug.formats.npy`). The engine uses them only when the
image is large (more pixels than ``DOMAUG_WINDOW_PIXELS``, default 64 Mpx) and every
transform of the pipeline is window-safe (class attribute ``window_safe = True``: its
``apply`` on a window gives the same pixels as on the whole image, given
``meta["window_offset"]``/``meta["full_shape"]`` and a halo of ``window_halo(params)``
pixels); see :mod:`domaug.batch.windowed`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Iterator, Mapping, Protocol, Sequence

import numpy as np

#: ``Window`` = (row_off, col_off, height, width) in pixels of the full image.
Window = tuple[int, int, int, int]


def sidecar_path(dest: Path, suffix: str) -> Path:
    """The path of a side file of ``dest``: ``x.aug0.png`` + ``.mask.png`` → ``x.aug0.mask.png``.

    Keeps the engine's temporary prefix, so the engine renames the side file with
    the main one.
    """
    dest = Path(dest)
    return dest.with_name(dest.name[: len(dest.name) - len(dest.suffix)] + suffix)


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
        """Split this format's files (sorted, in one walk) into items; default one file each.

        ``paths`` are every file of one walk that this format was chosen for, sorted;
        an item is a list of paths (e.g. all slices of a DICOM series, the 5 band files
        of a MicaSense capture), listed in the order ``read`` expects. The item's first
        path names it in the manifest and seeds its randomness, so it must not depend on
        which other items exist.
        """
        return [[p] for p in paths]

    def read(self, paths: Sequence[Path]) -> dict[str, Any]:
        """Read one item into a sample dict (``image``, ``meta``, side targets).

        Raise :class:`domaug.FormatError` ``(path, reason)`` for a broken or
        unsupported file (zero bytes, truncated, wrong content, too many pixels).
        """
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

        ``dest`` matches ``output_names`` (same order), each with the engine's
        temporary prefix. Returns every file written (outputs and sidecars), all of
        them inside the folders of ``dest`` and named with :func:`sidecar_path` (or
        otherwise keeping the prefix) so that the engine can rename them into place.
        ``sources`` are the item's input paths (to copy metadata from).
        ``provenance`` holds ``pipeline_hash``, ``seed_key``, ``applied`` and
        ``domaug_version`` for formats that can stamp it (PNG text, GeoTIFF tags,
        DICOM derivation description). Output must be a pure function of the sample,
        sources and provenance (no timestamps): ``domaug replay`` checks bytes.
        """
        raise NotImplementedError


class WindowedSource(Protocol):
    """An opened large image, read window by window (returned by ``Format.open_windows``).

    Attributes ``shape`` (full image shape, H×W or H×W×C), ``dtype`` and ``meta`` (the
    same ``meta`` ``read`` would give). ``iter_windows(tile, halo)`` yields
    ``(inner, outer)`` window pairs covering the image in row-major order: ``inner``
    the tile to write, ``outer`` the tile grown by ``halo`` pixels and clipped to the
    image. ``read(window)`` returns that window's pixels (H×W[×C], the full image's
    dtype). ``close()`` releases the file.

    Optional: ``read_sample(window)`` returns a whole sample of the window (``image``
    plus ``valid`` or masks); the engine then uses it instead of ``read``.
    ``overview()`` returns a small decimated sample of the whole image on which the
    engine draws the parameters (otherwise it draws on a zero-copy stand-in).
    Each window sample's ``meta`` gets ``window`` = [row_off, col_off, height, width],
    ``window_offset`` = [row_off, col_off] and ``full_shape`` = [rows, cols].
    """

    shape: tuple[int, ...]
    dtype: np.dtype
    meta: dict[str, Any]

    def iter_windows(self, tile: int, halo: int) -> Iterator[tuple[Window, Window]]: ...

    def read(self, window: Window) -> np.ndarray: ...

    def close(self) -> None: ...


class WindowedSink(Protocol):
    """One output being written window by window (returned by ``Format.create_windows``).

    ``write(window, pixels)`` stores an inner window; ``close()`` finishes the file(s)
    and returns every path written (like ``Format.write``); ``abort()`` closes without
    caring about the content (the engine deletes the temporary files).
    """

    def write(self, window: Window, pixels: np.ndarray) -> None: ...

    def close(self) -> list[Path]: ...

    def abort(self) -> None: ...


def iter_tiles(height: int, width: int, tile: int, halo: int) -> Iterator[tuple[Window, Window]]:
    """Row-major ``(inner, outer)`` windows for :meth:`WindowedSource.iter_windows`."""
    for r in range(0, height, tile):
        for c in range(0, width, tile):
            h, w = min(tile, height - r), min(tile, width - c)
            r0, c0 = max(0, r - halo), max(0, c - halo)
            r1, c1 = min(height, r + h + halo), min(width, c + w + halo)
            yield (r, c, h, w), (r0, c0, r1 - r0, c1 - c0)
