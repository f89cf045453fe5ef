"""The scene on a coarse grid: distance, sky and scene colours from every k-th pixel.

Weather veils depend on distance, which the flat-road prior makes smooth everywhere but
at the sky line and object edges (and the sky mask itself is estimated on a ~256 px
grid). :func:`coarse_scene` evaluates the prior on that grid (k = min(H, W) // 256, at most 512² cells:
:func:`.camera.grid_step`), so
transmission and airlight cost ~1/k² of a full-resolution pass; :func:`upsample` brings
a coarse field back to full size (bilinear between grid-cell centres: the sky line is a
k-pixel ramp instead of k-pixel blocks); :func:`.guided.guided_upsample` moves a field's
edges onto the frame's own (a transmission's at the tree line). A measured ``depth`` target
is used at full resolution instead.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.kit import cv2_module

from . import radiometry
from .camera import decimate, grid_step
from .depth import SKY_DEPTH_M, depth_of_sample, layout_from_small, sky_from_small
from .scratch import buffer

#: Short side of the coarse grid (cells; :func:`.camera.grid_step`): transmission and sky are smooth or
#: blocky at this scale.
GRID_PX = 256


def coarse_scene(sample: Mapping[str, Any], camera: Mapping[str, float], grid_px: int | None = None) -> dict:
    """Decimated linear image, distance (m) and sky mask of ``sample`` on the coarse grid.

    ``grid_px`` (default :data:`GRID_PX`) is the short side of the grid (:func:`.camera.grid_step`). Returns a dict:
    ``k`` (decimation), ``small`` (hs×ws×3 linear float32, pixel
    (i, j) = full pixel (k·i + k//2, k·j + k//2)), ``dist`` (hs×ws, or H×W when the sample
    has a ``depth`` target: then ``full`` is True), ``sky`` (bool, on the grid of ``small``) and
    ``labels`` (uint8 :data:`~.layout.SKY` / ``GROUND`` / ``VERTICAL`` / ``EGO``, on the grid of
    ``small``: the scene layout, also computed when a ``depth`` target gives the distance) and
    ``camera`` (the full-resolution camera dict it was computed for).
    """
    image = sample["image"]
    meta = sample.get("meta")
    h, w = image.shape[:2]
    k = grid_step((h, w), grid_px or GRID_PX)
    hs, ws = h // k, w // k
    small = radiometry.decode(np.ascontiguousarray(decimate(image, k, (0, hs), ws)[..., :3]), meta)
    sub = lambda m: None if m is None else np.ascontiguousarray(np.asarray(m)[k // 2 : hs * k : k, k // 2 : ws * k : k])  # noqa: E731
    sky = sub(sample.get("sky_mask"))
    boxes = sample.get("bboxes")
    if boxes is not None and len(boxes):
        boxes = np.asarray(boxes, dtype=np.float64)[:, :4] / k
    cam = {"focal_length_px": camera["focal_length_px"] / k, "horizon_row": camera["horizon_row"] / k,
           "camera_height_m": camera["camera_height_m"]}
    lay = layout_from_small(small, cam, sky=sky, road_mask=sub(sample.get("road_mask")), bboxes=boxes)
    if sample.get("depth") is not None:
        dist = depth_of_sample(sample, camera, None)
        return {"k": k, "small": small, "dist": dist, "sky": sub(dist >= SKY_DEPTH_M), "full": True,
                "labels": lay.labels, "camera": dict(camera)}
    return {"k": k, "small": small, "dist": lay.depth, "sky": lay.depth >= SKY_DEPTH_M, "full": False,
            "labels": lay.labels, "camera": dict(camera)}


def bright_colour(small: np.ndarray, fraction: float = 0.1) -> np.ndarray:
    """Mean linear colour (3,) of the brightest ``fraction`` of the pixels of ``small``."""
    px = small.reshape(-1, 3)
    y = px @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
    n = max(1, int(round(fraction * len(y))))
    return px[np.argpartition(y, len(y) - n)[len(y) - n :]].mean(axis=0)


def scale_add(src: np.ndarray, factor: float, dst: np.ndarray) -> np.ndarray:
    """In place: ``dst += factor·src`` (float32 H×W; ``cv2.scaleAdd`` without a temporary)."""
    cv2 = cv2_module()
    if (cv2 is not None and src.dtype == dst.dtype == np.float32 and src.shape == dst.shape and dst.ndim == 2
            and dst.flags.c_contiguous and src.strides[-1] == 4 and dst.shape[1] < 2**20 and dst.size):
        cv2.scaleAdd(src, float(factor), dst, dst=dst)
        return dst
    dst += src * np.float32(factor)
    return dst


def _cv2_2d(*arrays: np.ndarray):
    """OpenCV when every array is a non-empty float32 H×W array (or row-strided view) it can take."""
    cv2 = cv2_module()
    if cv2 is None:
        return None
    for a in arrays:
        if a.dtype != np.float32 or a.ndim != 2 or a.strides[-1] != 4 or not a.size or a.shape[1] >= 2**20:
            return None
    return cv2


def weighted_sum(a: np.ndarray, wa: float, b: np.ndarray, wb: float, c: float, out: np.ndarray) -> np.ndarray:
    """``out = wa·a + wb·b + c`` (float32 H×W, one ``cv2.addWeighted`` pass)."""
    cv2 = _cv2_2d(a, b, out)
    if cv2 is not None and a.shape == b.shape == out.shape:
        cv2.addWeighted(a, float(wa), b, float(wb), float(c), dst=out)
        return out
    tmp = buffer("scene_tmp", out.shape)
    np.multiply(b, np.float32(wb), out=tmp)
    np.multiply(a, np.float32(wa), out=out)
    out += tmp
    out += np.float32(c)
    return out


def add_product(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """In place: ``out += a·b`` (float32 H×W; ``cv2.accumulateProduct``, one pass)."""
    cv2 = _cv2_2d(a, b, out)
    if cv2 is not None and a.shape == b.shape == out.shape:
        cv2.accumulateProduct(a, b, out)
        return out
    tmp = buffer("scene_tmp", out.shape)
    np.multiply(a, b, out=tmp)
    out += tmp
    return out


def clip_max(a: np.ndarray, high: float) -> np.ndarray:
    """In place: ``a = min(a, high)`` for a float32 H×W array or row-strided view
    (``cv2.threshold``, ~8× faster than ``np.minimum`` with a scalar)."""
    cv2 = cv2_module()
    if cv2 is not None and a.dtype == np.float32 and a.ndim == 2 and a.strides[-1] == 4 and a.size and a.shape[1] < 2**20:
        cv2.threshold(a, float(high), 0.0, cv2.THRESH_TRUNC, dst=a)
        return a
    np.minimum(a, np.float32(high), out=a)
    return a


def clip_min(a: np.ndarray, low: float) -> np.ndarray:
    """In place: ``a = max(a, low)`` (NaN → ``low``) for a float32 H×W array."""
    cv2 = cv2_module()
    if cv2 is not None and a.dtype == np.float32 and a.ndim == 2 and a.strides[-1] == 4 and a.size and a.shape[1] < 2**20:
        if low != 0.0:
            a -= np.float32(low)
        cv2.threshold(a, 0.0, 0.0, cv2.THRESH_TOZERO, dst=a)
        if low != 0.0:
            a += np.float32(low)
        return a
    np.fmax(a, np.float32(low), out=a)
    return a


def coarse_sky(sample: Mapping[str, Any], horizon_row: float, k: int) -> np.ndarray:
    """Sky mask (bool, (H//k)×(W//k)) of ``sample`` on the grid of every k-th pixel: the
    ``sky_mask`` target when given, else :func:`depth.estimate_sky` on that grid."""
    image = sample["image"]
    h, w = image.shape[:2]
    hs, ws = h // k, w // k
    if sample.get("sky_mask") is not None:
        return np.asarray(sample["sky_mask"])[k // 2 : hs * k : k, k // 2 : ws * k : k] != 0
    top = max(1, min(hs, int(horizon_row / k)))
    small = radiometry.decode(np.ascontiguousarray(decimate(image, k, (0, top), ws)[..., :3]), sample.get("meta"))
    return sky_from_small(small, hs, ws, 1)


def upsample_mask(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A coarse boolean mask at ``shape`` (nearest cell; a new bool array)."""
    h, w = shape
    m = np.ascontiguousarray(mask, dtype=bool)
    if m.shape == (h, w):
        return m.copy()
    cv2 = cv2_module()
    if cv2 is not None and m.size and h < 32768 and w < 32768:
        return cv2.resize(m.view(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST).view(bool)
    rows = np.minimum((np.arange(h) * m.shape[0]) // h, m.shape[0] - 1)
    cols = np.minimum((np.arange(w) * m.shape[1]) // w, m.shape[1] - 1)
    return m[rows][:, cols]
