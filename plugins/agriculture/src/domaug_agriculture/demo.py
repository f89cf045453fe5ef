"""``domaug demo`` for agriculture: phenology and flight effects on a synthesised crop field.

The field is a 5-band (blue, green, red, red edge, NIR) uint16 drone frame (reflectance
×10 000, 3 cm ground sampling) of crop rows 75 cm apart on bare soil, with gaps and
weeds. It is written as ``field.npz`` (the core's NumPy format: the image with its band
names and wavelengths in ``meta``), so it needs no GeoTIFF support — plus the same field
as an RGB PNG, as a consumer drone sees it, with its label mask (1 crop, 2 weed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Container

PREFERRED = [
    ("agriculture.SeasonShift", {"stage": ["green-up", "senescence", "dormant"], "strength": [0.6, 1.0]}),
    ("agriculture.CropStage", {}),
    ("agriculture.SoilMoisture", {}),
    ("agriculture.SunAngle", {}),
    ("agriculture.CloudShadow", {}),
    ("agriculture.FlightMotionBlur", {}),
    ("agriculture.BandMisalignment", {}),
]
FALLBACK = [("core.Gamma", {"gamma": [0.8, 1.25]}), ("core.MotionBlur", {"length_px": [2.0, 6.0]})]

BANDS = ("blue", "green", "red", "rededge", "nir")
WAVELENGTHS_NM = (475.0, 560.0, 668.0, 717.0, 840.0)
SOIL = (0.08, 0.11, 0.15, 0.20, 0.25)
LEAF = (0.03, 0.08, 0.04, 0.22, 0.45)
H, W = 256, 320
GSD_M = 0.03
ROW_SPACING_M = 0.75


def pipeline_dict(available: Container[str]) -> dict:
    """SeasonShift, then SomeOf the other agriculture transforms among ``available`` (registry names)."""
    present = [{"name": n, "params": dict(p)} for n, p in PREFERRED if n in available]
    if not present:
        steps = [{"name": n, "params": dict(p)} for n, p in FALLBACK]
    elif len(present) == 1:
        steps = present
    else:
        steps = [present[0], {"name": "SomeOf", "params": {"n": [0, 2]}, "transforms": present[1:]}]
    return {"domaug_format": 1, "pipeline": {"name": "Compose", "params": {}, "transforms": steps}}


def field(seed: int = 5):
    """(H×W×5 uint16 reflectance ×10⁴, H×W uint8 labels: 0 soil, 1 crop, 2 weed)."""
    import numpy as np
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float64)
    angle = np.radians(12.0)
    across = xx * np.cos(angle) + yy * np.sin(angle)  # distance across the rows (px)
    along = -xx * np.sin(angle) + yy * np.cos(angle)
    period = ROW_SPACING_M / GSD_M
    offset = (across % period) - period / 2  # px from the nearest row centre
    plant_period = 0.25 / GSD_M  # a plant every 25 cm
    phase = (along % plant_period) - plant_period / 2
    row_id = np.floor(across / period)
    plant_id = np.floor(along / plant_period)
    size = 0.5 + 0.5 * np.sin(row_id * 12.9898 + plant_id * 78.233) ** 2  # per-plant vigour
    crop = (offset / (4.5 * size)) ** 2 + (phase / (4.0 * size)) ** 2 < 1.0
    crop &= gaussian_filter(rng.standard_normal((H, W)), 10) > -0.045  # missing plants
    crop = gaussian_filter(crop.astype(float), 0.8) > 0.5
    weeds = (gaussian_filter(rng.standard_normal((H, W)), 1.2) > 0.32) & ~crop
    canopy = crop | weeds
    texture = gaussian_filter(rng.standard_normal((H, W)), 2.0)
    texture /= texture.std() + 1e-12
    soil = np.array(SOIL)[None, None] * (1.0 + 0.06 * texture[..., None])
    leaf = np.array(LEAF)[None, None] * (1.0 + 0.1 * texture[..., None])
    refl = np.where(canopy[..., None], leaf, soil)
    labels = np.where(crop, 1, np.where(weeds, 2, 0)).astype(np.uint8)
    return np.clip(np.rint(refl * 10000), 1, 65535).astype(np.uint16), labels


def _rgb8(data):
    import numpy as np

    rgb = data[..., [2, 1, 0]].astype(np.float64) / 10000.0  # red, green, blue
    srgb = np.clip(rgb / 0.25, 0, 1) ** (1 / 2.2)
    return np.rint(srgb * 255).astype(np.uint8)


def make_inputs(folder: Path) -> list[Path]:
    """Write ``field.npz`` (5-band uint16 with band names) and ``field_rgb.png`` with its mask."""
    import json

    import numpy as np
    from PIL import Image

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data, labels = field()
    meta = {"band_names": list(BANDS), "wavelengths_nm": list(WAVELENGTHS_NM), "full_scale": 10000,
            "gsd_m": GSD_M}
    path = folder / "field.npz"
    np.savez_compressed(path, image=data, meta=np.asarray(json.dumps(meta)))
    rgb_path = folder / "field_rgb.png"
    Image.fromarray(_rgb8(data)).save(rgb_path)
    Image.fromarray(labels).save(folder / "field_rgb.mask.png")
    return [path, rgb_path]
