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


def samples_for(name: str) -> list[tuple[str, dict]]:
    namespace = name.split(".", 1)[0]
    return SAMPLES.get(namespace, core_samples)()
