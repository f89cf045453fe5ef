"""The readers' fuzz corpus: small valid files of every format written on the fly (no
checked-in binaries), and a read that must end in a sample or a one-line FormatError
naming the file within a time limit (see ``test_reader_fuzz``)."""

from __future__ import annotations

import os
import signal
from contextlib import contextmanager
from pathlib import Path

import numpy as np

import domaug
from domaug.formats import registry
from domaug.targets import validate_sample

READ_TIMEOUT_S = 20
FUZZ_EXAMPLES = int(os.environ.get("DOMAUG_FUZZ_EXAMPLES", "40"))

#: corpus name → reason: reader bugs found here in rooms still being written (xfail, reported).
#: (the plain TIFF reader's empty-image / uint32 bug found here is fixed: formats.common.check_sample)
KNOWN_BUGS: dict[str, str] = {}


class ReadHang(Exception):
    pass


@contextmanager
def time_limit(seconds: int):
    def handler(signum, frame):
        raise ReadHang(f"read took more than {seconds} s")

    old = signal.signal(signal.SIGALRM, handler)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def read_or_format_error(path: Path) -> str:
    """'ok' (a valid sample) or 'error' (a one-line FormatError naming ``path``)."""
    try:
        with time_limit(READ_TIMEOUT_S):
            sample = registry.read([path])
    except domaug.FormatError as exc:
        msg = str(exc)
        assert "\n" not in msg.strip(), f"multi-line error for {path.name}: {msg!r}"
        assert path.name in msg, f"error does not name the file {path.name}: {msg!r}"
        assert exc.reason.strip(), f"empty reason for {path.name}"
        return "error"
    assert isinstance(sample, dict) and isinstance(sample.get("image"), np.ndarray), path.name
    validate_sample(sample)  # the reader's sample is one domaug accepts
    assert sample["image"].size > 0
    return "ok"


# -- the valid corpus ------------------------------------------------------------------
def _gradient(h: int, w: int, c: int | None = None, dtype=np.uint8, hi: float = 255) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    base = (yy * 7 + xx * 3) % 97 / 96.0
    if c:
        base = np.stack([np.roll(base, k, axis=1) for k in range(c)], axis=-1)
    return np.rint(base * hi).astype(dtype)


def write_png(path: Path, arr: np.ndarray) -> Path:
    from PIL import Image

    Image.fromarray(arr).save(path)
    return path


def write_jpeg(path: Path, arr: np.ndarray) -> Path:
    from PIL import Image

    Image.fromarray(arr).save(path, quality=90)
    return path


def write_tiff(path: Path, arr: np.ndarray, **kw) -> Path:
    import tifffile

    tifffile.imwrite(path, arr, **kw)
    return path


def write_geotiff(path: Path, arr: np.ndarray, nodata=None) -> Path:
    import rasterio
    from rasterio.transform import from_origin

    arr = arr if arr.ndim == 3 else arr[..., None]
    h, w, c = arr.shape
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=c, dtype=arr.dtype.name,
                       crs="EPSG:32633", transform=from_origin(500000, 4200000, 10, 10), nodata=nodata) as dst:
        dst.write(np.moveaxis(arr, -1, 0))
    return path


def dicom_bytes(name: str) -> bytes:
    from pydicom.data import get_testdata_file

    return Path(get_testdata_file(name, download=False)).read_bytes()


def valid_corpus(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    c: dict[str, Path] = {}
    c["png8-gray"] = write_png(folder / "gray8.png", _gradient(24, 20))
    c["png8-rgb"] = write_png(folder / "rgb8.png", _gradient(16, 18, 3))
    c["png16-gray"] = write_png(folder / "gray16.png", _gradient(20, 16, dtype=np.uint16, hi=65535))
    c["jpeg-rgb"] = write_jpeg(folder / "rgb.jpg", _gradient(24, 32, 3))
    c["tiff-5band"] = write_tiff(folder / "ms5.tif", _gradient(12, 14, 5, np.uint16, 4095))
    c["tiff-float"] = write_tiff(folder / "f32.tif", _gradient(10, 9, dtype=np.float32, hi=1))
    np.save(folder / "arr.npy", _gradient(12, 10, 4, np.uint16, 1000))
    c["npy"] = folder / "arr.npy"
    np.savez(folder / "arr.npz", image=_gradient(8, 8, 3), mask=(_gradient(8, 8) > 100).astype(np.uint8))
    c["npz"] = folder / "arr.npz"
    (folder / "ct.dcm").write_bytes(dicom_bytes("CT_small.dcm"))
    c["dicom-ct"] = folder / "ct.dcm"
    (folder / "mr.dcm").write_bytes(dicom_bytes("MR_small.dcm"))
    c["dicom-mr"] = folder / "mr.dcm"
    c["geotiff-4band"] = write_geotiff(folder / "geo4.tif", _gradient(16, 12, 4, np.uint16, 10000), nodata=0)
    return c
