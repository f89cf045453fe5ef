"""Real drone data for the agriculture tests (read with rasterio here, never in the plugin).

Multi-file convention for the MicaSense RedEdge capture: ``IMG_<n>_<k>.tif`` with
k = 1..5 = blue, green, red, NIR, red edge (one band per file, uint16, 12-bit DN stored
MSB-aligned, i.e. multiples of 16 up to 65520). The test stacks them in file order into
an H×W×5 array with ``meta['band_names'] = ['blue', 'green', 'red', 'nir', 'rededge']``
and ``wavelengths_nm = [475, 560, 668, 840, 717]``.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

MICASENSE_BANDS = ["blue", "green", "red", "nir", "rededge"]
MICASENSE_NM = [475.0, 560.0, 668.0, 840.0, 717.0]


@lru_cache(maxsize=None)
def _pix4d(path: str):
    rasterio = pytest.importorskip("rasterio")
    with rasterio.open(path) as src:
        image = np.ascontiguousarray(src.read().transpose(1, 2, 0))
        names = [ci.name for ci in src.colorinterp]
        meta = {"band_names": names, "transform": list(src.transform.to_gdal()), "crs": str(src.crs)}
    return image, meta


@lru_cache(maxsize=None)
def _micasense(folder: str):
    rasterio = pytest.importorskip("rasterio")
    planes = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in range(1, 6):
            with rasterio.open(Path(folder) / f"IMG_0001_{k}.tif") as src:
                planes.append(src.read(1))
    return np.stack(planes, axis=-1)


@pytest.fixture
def pix4d(shared_data):
    """(RGBA uint8 orthomosaic, meta with band_names from the colour interpretation)."""
    path = shared_data / "agriculture" / "pix4d_alpha_nodata.tif"
    if not path.exists():
        pytest.skip(f"{path} not found")
    image, meta = _pix4d(str(path))
    return image, dict(meta)


@pytest.fixture
def micasense(shared_data):
    """(H×W×5 uint16 stacked MicaSense capture, meta)."""
    folder = shared_data / "agriculture" / "micasense_rededge"
    if not (folder / "IMG_0001_5.tif").exists():
        pytest.skip(f"{folder} not found")
    return _micasense(str(folder)), {"band_names": list(MICASENSE_BANDS), "wavelengths_nm": list(MICASENSE_NM)}


#: MicaSense RedEdge dark offset of the 16-bit DN (EXIF BlackLevel of the capture: 4800)
MICASENSE_BLACK_LEVEL = 4800


@lru_cache(maxsize=None)
def _micasense_aligned(folder: str):
    """The capture with every band moved onto the green band's grid (phase correlation, 0.1 px), 16 px border cut."""
    from scipy.ndimage import shift as nd_shift
    from skimage.registration import phase_cross_correlation

    raw = _micasense(folder).astype(np.float64)
    green = raw[..., 1]
    planes, offsets = [], []
    for k in range(raw.shape[-1]):
        offset = phase_cross_correlation(green, raw[..., k], upsample_factor=10)[0]
        offsets.append(tuple(float(v) for v in offset))
        planes.append(nd_shift(raw[..., k], offset, order=1, mode="nearest"))
    stack = np.stack(planes, axis=-1)[16:-16, 16:-16]
    return np.rint(stack).astype(np.uint16), tuple(offsets)


@pytest.fixture
def micasense_aligned(shared_data):
    """(H×W×5 uint16 capture with the bands co-registered, meta with the black level, offsets (row, col) vs green)."""
    folder = shared_data / "agriculture" / "micasense_rededge"
    if not (folder / "IMG_0001_5.tif").exists():
        pytest.skip(f"{folder} not found")
    image, offsets = _micasense_aligned(str(folder))
    meta = {"band_names": list(MICASENSE_BANDS), "wavelengths_nm": list(MICASENSE_NM),
            "black_level": MICASENSE_BLACK_LEVEL}
    return image, meta, offsets
