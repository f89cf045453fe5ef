"""Example samples per transform namespace, for the registry-wide contract test.

Each domain supplies inputs its transforms are meant for (a plugin's transforms may
refuse others with a clear error, which the contract test checks separately).
"""

from __future__ import annotations

import numpy as np


def _boxes(h: int, w: int) -> np.ndarray:
    return np.array([[2, 3, w // 2, h // 2, 1], [w // 3, h // 3, w - 2, h - 1, 2]], dtype=np.float64)


def _keypoints(h: int, w: int) -> np.ndarray:
    return np.array([[1.5, 2.5], [w / 2, h / 2], [w - 1.5, h - 1.5]], dtype=np.float64)


def core_samples() -> list[tuple[str, dict]]:
    rng = np.random.default_rng(12345)
    h, w = 48, 64
    yy, xx = np.mgrid[0:h, 0:w]
    base = (np.sin(xx / 5.0) * 60 + yy * 2 + 60).astype(np.float64)
    rgb = np.stack([base, base[::-1], base[:, ::-1]], axis=-1)
    rgb8 = np.clip(rgb + rng.normal(0, 5, rgb.shape), 0, 255).astype(np.uint8)
    mask = ((xx // 16 + yy // 16) % 3).astype(np.uint8)
    valid = np.ones((h, w), bool)
    valid[:, :5] = False
    rgb8_nd = rgb8.copy()
    rgb8_nd[~valid] = 0
    u16 = (rgb8.astype(np.uint16) * 40)[..., :2].copy()
    vol = np.stack([base[:32, :40] * (1 + 0.02 * z) for z in range(12)]).astype(np.float32) / 255.0
    return [
        ("rgb-uint8", {"image": rgb8, "mask": mask, "bboxes": _boxes(h, w), "keypoints": _keypoints(h, w)}),
        ("rgb-uint8-nodata", {"image": rgb8_nd, "valid": valid, "meta": {"nodata": 0}}),
        ("2band-uint16", {"image": u16, "mask": mask.astype(np.int32), "meta": {"bit_depth": 12}}),
        ("gray-float32", {"image": (base / 255.0).astype(np.float32), "depth": (xx + 1.0).astype(np.float32)}),
        ("gray-int16", {"image": (base * 10 - 1000).astype(np.int16)}),
        ("volume-float32", {"image": vol, "mask": (vol > 0.5).astype(np.uint8), "meta": {"spacing": [2.0, 1.0, 1.0]}}),
    ]


#: namespace → function returning [(case id, sample)]. Plugins' test modules add theirs.
SAMPLES = {"core": core_samples, "user": core_samples}


def medical_samples() -> list[tuple[str, dict]]:
    """CT slice in HU (int16), an MR-like float volume with a label mask, a uint16 MR slice."""
    import pydicom
    from pydicom.data import get_testdata_file

    ct = pydicom.dcmread(get_testdata_file("CT_small.dcm", download=False))
    hu = ct.pixel_array.astype(np.float64) * float(ct.RescaleSlope) + float(ct.RescaleIntercept)
    mr = pydicom.dcmread(get_testdata_file("MR_small.dcm", download=False))
    mr16 = mr.pixel_array.astype(np.uint16)
    d, h, w = 12, 32, 40
    zz, yy, xx = np.mgrid[0:d, 0:h, 0:w]
    r = np.sqrt(((zz - d / 2) * 3.0) ** 2 + (yy - h / 2) ** 2 + (xx - w / 2) ** 2)
    organ = r < 14
    lesion = np.sqrt(((zz - 6) * 3.0) ** 2 + (yy - 14) ** 2 + (xx - 22) ** 2) < 4
    rng = np.random.default_rng(7)
    vol = np.where(organ, 600.0, 30.0) + 200.0 * np.sin(xx / 4.0) * organ + rng.normal(0, 10, organ.shape)
    vol[lesion] = 300.0
    mask = organ.astype(np.uint8) + lesion.astype(np.uint8)  # LiTS convention: 1 organ, 2 lesion
    return [
        ("ct-hu-int16", {"image": hu.astype(np.int16),
                         "meta": {"spacing": [float(v) for v in ct.PixelSpacing], "modality": "CT"}}),
        ("mr-volume-float32", {"image": np.clip(vol, 0, None).astype(np.float32), "mask": mask,
                               "meta": {"spacing": [3.0, 1.0, 1.0], "modality": "MR"}}),
        ("mr-slice-uint16", {"image": mr16, "meta": {"modality": "MR"}}),
    ]


SAMPLES["medical"] = medical_samples


def samples_for(name: str) -> list[tuple[str, dict]]:
    namespace = name.split(".", 1)[0]
    return SAMPLES.get(namespace, core_samples)()


# -- agriculture (drone frames) -------------------------------------------------------
AGRI_BANDS = ["blue", "green", "red", "nir", "rededge"]


def agri_field(h: int = 64, w: int = 80, seed: int = 7, row_period: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic crop field: (vegetation fraction in [0, 1] per pixel, soil texture in ±1).

    Vertical crop rows every ``row_period`` px, plants as blobs along the rows.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    across = np.abs(((xx + row_period / 2) % row_period) - row_period / 2)
    along = 0.5 + 0.5 * np.cos(2 * np.pi * yy / 9.0 + rng.uniform(0, 6.28))
    plant = np.clip(1.6 - across / (1.2 + 0.8 * along), 0, 1)
    texture = np.clip(rng.normal(0, 0.5, (h, w)), -1, 1)
    return plant, texture


def agri_multispectral(h: int = 64, w: int = 80, seed: int = 7) -> np.ndarray:
    """5-band uint16 (12-bit DN) B, G, R, NIR, RE field: vegetation NDVI ≈ 0.8, soil ≈ 0.13."""
    plant, texture = agri_field(h, w, seed)
    soil = np.array([900, 1100, 1300, 1700, 1500], float)
    leaf = np.array([300, 700, 350, 3200, 1600], float)
    img = soil * (1 + 0.08 * texture[..., None]) * (1 - plant[..., None]) + leaf * plant[..., None]
    return np.clip(np.rint(img), 0, 4095).astype(np.uint16)


def agri_rgb(h: int = 48, w: int = 64, seed: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """8-bit RGB field and its crop(1)/weed(2)/soil(0) mask."""
    plant, texture = agri_field(h, w, seed)
    soil = np.array([130, 105, 80], float)
    leaf = np.array([70, 120, 45], float)
    img = soil * (1 + 0.1 * texture[..., None]) * (1 - plant[..., None]) + leaf * plant[..., None]
    mask = (plant > 0.5).astype(np.uint8)
    mask[(plant > 0.5) & (np.arange(w)[None, :] > w - 12)] = 2  # weeds in the last row
    return np.clip(np.rint(img), 0, 255).astype(np.uint8), mask


def agriculture_samples() -> list[tuple[str, dict]]:
    ms = agri_multispectral(64, 80)
    rgb, mask = agri_rgb(48, 64)
    rgba = np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 255, np.uint8)], axis=-1)
    yy, xx = np.mgrid[0:48, 0:64]
    outside = (xx + yy < 18) | ((xx - 50) ** 2 + (yy - 40) ** 2 < 80)
    rgba[outside] = 0
    geo = {"transform": [500000.0, 0.05, 0.0, 4200000.0, 0.0, -0.05], "crs": "EPSG:32633"}
    return [
        ("ms5-uint16", {"image": ms, "meta": {"band_names": list(AGRI_BANDS), "bit_depth": 12, **geo}}),
        ("rgb-uint8-mask", {"image": rgb, "mask": mask, "bboxes": _boxes(48, 64), "keypoints": _keypoints(48, 64)}),
        ("rgba-uint8-footprint", {"image": rgba, "mask": mask,
                                  "meta": {"band_names": ["red", "green", "blue", "alpha"], **geo}}),
    ]


SAMPLES["agriculture"] = agriculture_samples


def satellite_samples() -> list[tuple[str, dict]]:
    """4-band uint16 with a nodata border, 12-band float32 reflectance, 3-band uint8."""
    rng = np.random.default_rng(606)
    h, w = 40, 56
    yy, xx = np.mgrid[0:h, 0:w]
    base = 0.08 + 0.05 * np.sin(xx / 6.0) + 0.002 * yy
    refl = np.stack([base, base * 1.1, base * 0.9, base * 3.0], axis=-1) + rng.normal(0, 0.005, (h, w, 4))
    u16 = np.clip(refl * 10000, 1, 65535).astype(np.uint16)
    valid = np.ones((h, w), bool)
    valid[:3, :] = False
    valid[:, -4:] = False
    u16[~valid] = 0
    mask = ((xx // 14 + yy // 10) % 3).astype(np.uint8)
    meta4 = {"nodata": 0, "transform": [500000.0, 10.0, 0.0, 4200000.0, 0.0, -10.0], "crs": "EPSG:32633",
             "band_names": ["blue", "green", "red", "nir"]}
    s2 = np.stack([base * (1 + 0.2 * k) for k in range(12)], axis=-1).astype(np.float32)
    s2 = s2 + rng.normal(0, 0.003, s2.shape).astype(np.float32)
    rgb8 = np.clip(np.stack([base, base * 1.2, base * 0.8], -1) * 900 + rng.normal(0, 3, (h, w, 3)), 0, 255)
    return [
        ("4band-uint16-nodata", {"image": u16, "valid": valid, "mask": mask, "bboxes": _boxes(h, w),
                                 "keypoints": _keypoints(h, w), "meta": meta4}),
        ("12band-float32", {"image": s2, "meta": {"transform": [17.2, 9e-5, 0.0, 48.9, 0.0, -9e-5],
                                                  "crs": "EPSG:4326"}}),
        ("3band-uint8", {"image": rgb8.astype(np.uint8), "mask": mask}),
    ]


SAMPLES["satellite"] = satellite_samples


def driving_samples() -> list[tuple[str, dict]]:
    """Road-like RGB frames: sky over a darker road, a 'car', boxes, depth; uint8, 16-bit HDR, float linear."""
    rng = np.random.default_rng(7)
    h, w = 48, 64
    yy, xx = np.mgrid[0:h, 0:w]
    horizon = 0.58 * h
    sky = np.stack([0.55 + 0 * yy, 0.65 + 0 * yy, 0.85 + 0 * yy], -1) - 0.2 * (yy / h)[..., None]
    road = np.stack([0.25 + 0.1 * (xx % 16 < 2)] * 3, -1)
    frame = np.where((yy < horizon)[..., None], sky, road)
    frame[22:34, 20:36] = (0.1, 0.1, 0.12)  # a dark car
    frame = np.clip(frame + rng.normal(0, 0.01, frame.shape), 0, 1)
    boxes = np.array([[20, 22, 36, 34, 1], [40, 25, 50, 30, 2]], dtype=np.float64)
    depth = np.where(yy < horizon, 1000.0, 12.0 * h / np.maximum(yy - horizon + 0.5, 0.5)).astype(np.float32)
    mask = (yy >= horizon).astype(np.uint8)
    rgb8 = np.rint(frame * 255).astype(np.uint8)
    valid = np.ones((h, w), bool)
    valid[:, :4] = False
    rgb8_nd = rgb8.copy()
    rgb8_nd[~valid] = 0
    return [
        ("road-uint8", {"image": rgb8, "bboxes": boxes, "keypoints": _keypoints(h, w), "mask": mask,
                        "depth": depth}),
        ("road-uint8-prior-nodata", {"image": rgb8_nd, "valid": valid, "bboxes": boxes, "meta": {"nodata": 0}}),
        ("road-uint16-hdr", {"image": np.rint(frame * 65535).astype(np.uint16), "bboxes": boxes}),
        ("road-float32-linear", {"image": (frame**2.2 * 1.5).astype(np.float32), "depth": depth, "mask": mask}),
    ]


SAMPLES["driving"] = driving_samples
