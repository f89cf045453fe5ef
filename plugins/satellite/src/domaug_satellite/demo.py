"""``domaug demo`` for satellite: clouds over a synthesised 4-band Sentinel-2-like GeoTIFF.

The scene (256×256 px at 10 m, UTM zone 33N) mixes water, vegetation, bare soil and
built-up land with typical surface reflectances (×10 000, uint16), band order blue,
green, red, NIR, and a nodata (0) border like the edge of a satellite swath. Outputs
keep CRS, geotransform and nodata.
"""

from __future__ import annotations

from pathlib import Path
from typing import Container

#: the weather drawn per output (OneOf those the plugin registers), then a flip
PREFERRED = [
    ("satellite.CloudCover", {"coverage": [0.1, 0.35]}),
    ("satellite.Haze", {"aod_550": [0.05, 0.4]}),
]
#: sensor defects, at most one per output
SENSOR = ["satellite.SensorNoise", "satellite.Striping", "satellite.BandMisregistration"]
FALLBACK = [("core.BrightnessContrast", {"brightness": [-0.05, 0.1]}), ("core.GaussianNoise", {"sigma": [0.005, 0.02]})]

BANDS = ("blue", "green", "red", "nir")
#: land cover → surface reflectance in BANDS order (typical spectra)
REFLECTANCE = {
    "water": (0.06, 0.05, 0.03, 0.02),
    "vegetation": (0.03, 0.07, 0.04, 0.35),
    "soil": (0.10, 0.14, 0.18, 0.25),
    "urban": (0.12, 0.13, 0.14, 0.18),
}
SIZE = 256
PIXEL_M = 10.0


def pipeline_dict(available: Container[str]) -> dict:
    """OneOf clouds or haze, then at most one sensor defect, then a flip (of the ``available`` transforms)."""
    domain = [{"name": n, "params": dict(p)} for n, p in PREFERRED if n in available]
    steps = ([{"name": "OneOf", "params": {}, "transforms": domain}] if domain
             else [{"name": n, "params": dict(p)} for n, p in FALLBACK])
    sensor = [{"name": n, "params": {}} for n in SENSOR if n in available]
    if sensor:
        steps.append({"name": "SomeOf", "params": {"n": [0, 1]}, "transforms": sensor})
    steps.append({"name": "core.Flip", "params": {"axis": "horizontal", "p": 0.5}})
    return {"domaug_format": 1, "pipeline": {"name": "Compose", "params": {}, "transforms": steps}}


def scene(seed: int = 3):
    """(4×H×W uint16 reflectance ×10⁴, H×W bool valid) of a synthetic land-cover mosaic."""
    import numpy as np
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)

    def field(sigma):
        f = gaussian_filter(rng.standard_normal((SIZE, SIZE)), sigma)
        return (f - f.mean()) / (f.std() + 1e-12)

    elevation, moisture, texture = field(24), field(10), field(1.5)
    cover = np.full((SIZE, SIZE), "soil", dtype=object)
    cover[moisture > 0.2] = "vegetation"
    cover[(moisture < -0.9) & (elevation > 0.3)] = "urban"
    cover[elevation < -1.1] = "water"
    bands = np.zeros((len(BANDS), SIZE, SIZE))
    for name, values in REFLECTANCE.items():
        hit = cover == name
        for b, v in enumerate(values):
            bands[b][hit] = v
    bands *= 1.0 + 0.08 * texture[None]
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    valid = (xx + 0.35 * yy > 30) & (xx - 0.2 * yy < SIZE - 20)  # slanted swath edges
    data = np.clip(np.rint(bands * 10000), 1, 65535).astype(np.uint16)
    data[:, ~valid] = 0
    return data, valid


def make_inputs(folder: Path) -> list[Path]:
    """Write ``scene.tif``: 4-band uint16 GeoTIFF, EPSG:32633, 10 m pixels, nodata 0, scale 10⁻⁴."""
    import rasterio
    from rasterio.transform import Affine

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data, _ = scene()
    path = folder / "scene.tif"
    profile = {
        "driver": "GTiff", "width": SIZE, "height": SIZE, "count": len(BANDS), "dtype": "uint16",
        "crs": "EPSG:32633", "transform": Affine(PIXEL_M, 0.0, 500000.0, 0.0, -PIXEL_M, 5200000.0),
        "nodata": 0, "compress": "deflate", "tiled": True, "blockxsize": 128, "blockysize": 128,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        dst.scales = [1e-4] * len(BANDS)  # reflectance = DN × 10⁻⁴ (Sentinel-2 L2A convention)
        dst.offsets = [0.0] * len(BANDS)
        for i, name in enumerate(BANDS, start=1):
            dst.set_band_description(i, name)
    return [path]
