"""NumPy ``.npy`` (one image array) and ``.npz`` (named targets) files.

``.npy``: the array is the ``image`` (H×W, H×W×C or a volume); sidecars as for any
image. ``.npz``: members named after targets (``image`` required; ``mask``,
``*_mask``, ``bboxes``, ``keypoints``, ``depth``, ``valid``...) plus an optional
``meta`` member holding a JSON string. Written back the same way (an ``.npz`` keeps
its compression), with the provenance JSON as a ``domaug_provenance`` member. Pickled
objects are refused. Large plain ``.npy`` files (without sidecars) can be processed
tile by tile through memory maps (``open_windows`` / ``create_windows``). Zip entries
carry a fixed timestamp so outputs are byte-stable.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import FormatError
from .base import Format, iter_tiles
from .common import band_names, check_not_empty, check_pixels, check_sample, describe_head, provenance_text
from .sidecar import find_sidecars, read_sidecars, write_sidecars

NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"
PROVENANCE = "domaug_provenance"


def _load_npy(fileobj, path: Path, expected: int | None = None) -> np.ndarray:
    from numpy.lib import format as npformat

    try:
        version = npformat.read_magic(fileobj)
        reader = npformat.read_array_header_1_0 if version == (1, 0) else npformat.read_array_header_2_0
        shape, _fortran, dtype = reader(fileobj)
    except Exception as exc:  # noqa: BLE001
        raise FormatError(path, f"corrupt .npy header: {exc}") from None
    if dtype.hasobject:
        raise FormatError(path, "array holds Python objects (pickles are refused)")
    check_pixels(path, (int(np.prod(shape, dtype=np.float64)),), spatial=1)
    fileobj.seek(0)
    try:
        return np.load(fileobj, allow_pickle=False)
    except Exception as exc:  # noqa: BLE001
        raise FormatError(path, f"truncated or corrupt .npy data: {exc}") from None


def _meta_for(image: np.ndarray) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if image.dtype.kind in "ui":
        meta["bit_depth"] = image.dtype.itemsize * 8
    if image.ndim == 3 and image.shape[2] in (3, 4):
        meta["band_names"] = band_names(image.shape[2])
    return meta


class _NpySource:
    """A memory-mapped ``.npy`` read window by window (H×W or H×W×C)."""

    def __init__(self, path: Path, array: np.ndarray):
        self.path, self._array = path, array
        self.shape, self.dtype = tuple(array.shape), array.dtype
        self.meta = {**_meta_for(array), "format": "npy"}

    def iter_windows(self, tile: int, halo: int):
        return iter_tiles(self.shape[0], self.shape[1], tile, halo)

    def read(self, window):
        r, c, h, w = window
        return np.array(self._array[r: r + h, c: c + w])

    def close(self) -> None:
        self._array = None


class _NpySink:
    """A ``.npy`` output written window by window through a memory map."""

    def __init__(self, dest: Path, source: _NpySource):
        from numpy.lib.format import open_memmap

        self.dest = dest
        self._out = open_memmap(dest, mode="w+", dtype=source.dtype, shape=source.shape)

    def write(self, window, pixels) -> None:
        r, c, h, w = window
        self._out[r: r + h, c: c + w] = pixels

    def close(self) -> list[Path]:
        self._out.flush()
        self._out = None
        return [self.dest]

    def abort(self) -> None:
        self._out = None


class NPYFormat(Format):
    """NumPy arrays: ``.npy`` and ``.npz``."""

    name = "npy"
    extensions = (".npy", ".npz")

    def sniff(self, path: Path, head: bytes) -> bool:
        return head.startswith(NPY_MAGIC) or (
            head.startswith(ZIP_MAGIC) and path.suffix.lower() == ".npz"
        )

    def read(self, paths: Sequence[Path]) -> dict[str, Any]:
        path = Path(paths[0])
        check_not_empty(path)
        with open(path, "rb") as f:
            head = f.read(8)
        if head.startswith(NPY_MAGIC):
            with open(path, "rb") as f:
                image = _load_npy(f, path)
            meta = _meta_for(image)
            sample: dict[str, Any] = {"image": image, "meta": {**meta, "format": self.name}}
            check_sample(path, sample)
            sample.update(read_sidecars(path, image.shape[:2] if image.ndim <= 3 else image.shape[:3]))
            return sample
        if not head.startswith(ZIP_MAGIC):
            raise FormatError(path, f"not a NumPy file (starts with {describe_head(head)})")
        return self._read_npz(path)

    def _read_npz(self, path: Path) -> dict[str, Any]:
        sample: dict[str, Any] = {}
        meta: dict[str, Any] = {}
        try:
            with zipfile.ZipFile(path) as zf:
                compressed = any(i.compress_type != zipfile.ZIP_STORED for i in zf.infolist())
                for info in sorted(zf.infolist(), key=lambda i: i.filename):
                    name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
                    with zf.open(info) as member:
                        arr = _load_npy(io.BytesIO(member.read()), path)
                    if name == "meta":
                        meta = json.loads(str(arr))
                    elif name != PROVENANCE:
                        sample[name] = arr
        except FormatError:
            raise
        except Exception as exc:  # noqa: BLE001 - zip/JSON errors mean a broken file
            raise FormatError(path, f"truncated or corrupt .npz: {exc}") from None
        if "image" not in sample:
            raise FormatError(path, f".npz has no 'image' member (members: {', '.join(sorted(sample)) or 'none'})")
        meta = {**_meta_for(sample["image"]), **meta, "format": self.name, "npz_compressed": compressed}
        sample["meta"] = meta
        return check_sample(path, sample)

    def write(self, sample: Mapping[str, Any], dest: Sequence[Path], *, sources: Sequence[Path],
              provenance: Mapping[str, Any]) -> list[Path]:
        target = Path(dest[0])
        source = Path(sources[0]) if sources else None
        if target.suffix.lower() == ".npy":
            with open(target, "wb") as f:
                np.save(f, np.asarray(sample["image"]), allow_pickle=False)
            return [target] + write_sidecars(sample, target, source)
        meta = dict(sample.get("meta") or {})
        compressed = bool(meta.pop("npz_compressed", False))
        meta.pop("format", None)
        members: dict[str, np.ndarray] = {}
        for name, value in sample.items():
            if name in ("applied", "meta") or value is None:
                continue
            members[name] = np.asarray(value)
        members["meta"] = np.asarray(json.dumps(meta, sort_keys=True, default=str))
        members[PROVENANCE] = np.asarray(provenance_text(provenance))
        mode = zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED
        with zipfile.ZipFile(target, "w", compression=mode) as zf:
            for name in sorted(members):
                buf = io.BytesIO()
                np.save(buf, members[name], allow_pickle=False)
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = mode
                zf.writestr(info, buf.getvalue())
        return [target]

    def open_windows(self, paths: Sequence[Path]):
        """Windowed reading of a large plain ``.npy`` (2-D or H×W×C, no sidecars); else None."""
        path = Path(paths[0])
        if path.suffix.lower() != ".npy" or find_sidecars(path):
            return None
        check_not_empty(path)
        try:
            array = np.load(path, mmap_mode="r", allow_pickle=False)
        except Exception as exc:  # noqa: BLE001
            raise FormatError(path, f"truncated or corrupt .npy data: {exc}") from None
        if array.ndim not in (2, 3) or array.dtype.hasobject:
            return None
        return _NpySource(path, array)

    def create_windows(self, source, dest: Sequence[Path], *, sources: Sequence[Path],
                       provenance: Mapping[str, Any]):
        """A memory-mapped ``.npy`` written window by window."""
        return _NpySink(Path(dest[0]), source)

