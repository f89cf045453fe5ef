"""The scene layout without a depth map: sky, ground, ego vehicle, and vertical objects standing on
the ground (the "pop-up" scene of Hoiem, Efros & Hebert, SIGGRAPH 2005). See :mod:`.depth`."""

from __future__ import annotations

from typing import Any, Mapping, NamedTuple

import numpy as np

from domaug.kit import cv2_module


from .camera import CAP_M, SKY_DEPTH_M, box_filter, camera_from, ground_plane_depth, ray_factor, stand_boxes
from .radiometry import decode
from .sky import label_components, sky_from_small

#: Layout labels (uint8): sky, ground, vertical object, ego vehicle (hood / dashboard).
SKY, GROUND, VERTICAL, EGO = 1, 2, 3, 4
#: Short side (px) of the grid the layout is computed on (then upsampled).
LAYOUT_GRID_PX = 256


class Layout(NamedTuple):
    """A scene layout: ``labels`` (uint8 H×W of :data:`SKY`, :data:`GROUND`,
    :data:`VERTICAL`, :data:`EGO`) and ``depth`` (float32 H×W, metres along each ray)."""

    labels: np.ndarray
    depth: np.ndarray


def _road_like(small: np.ndarray, vh: float) -> np.ndarray:
    """Pixels coloured like the road's seed band, and no more textured (bool, the grid of ``small``).
    Close to the horizon (the first 10 % of the rows below it) perspective packs the road's
    texture: only colour counts there."""
    hs, ws = small.shape[:2]
    y = small @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
    total = small[..., 0] + small[..., 1] + small[..., 2] + np.float32(1e-3)  # faster than sum(axis=2)
    r, b = small[..., 0] / total, small[..., 2] / total
    q = np.sqrt(np.maximum(y, 0.0))  # perceptual luminance: local contrast, texture
    grad = np.abs(np.diff(q, axis=0, append=q[-1:])) + np.abs(np.diff(q, axis=1, append=q[:, -1:]))
    texture = box_filter(grad, 3)
    v0 = int(np.clip(vh + 0.25 * (hs - vh), 0, hs - 1))
    v1 = int(np.clip(vh + 0.50 * (hs - vh), v0 + 1, hs))
    c0, c1 = int(0.3 * ws), max(int(0.7 * ws), int(0.3 * ws) + 1)
    seed = (slice(v0, v1), slice(c0, c1))
    yr, rr, br = float(np.median(y[seed])), float(np.median(r[seed])), float(np.median(b[seed]))
    tr = float(np.percentile(texture[seed], 75))
    return ((y >= 0.45 * yr) & (y <= 6.0 * yr + 1e-3) & (np.abs(r - rr) < 0.1) & (np.abs(b - br) < 0.1)
            & ((texture <= 2.0 * tr + 0.01) | (np.arange(hs) < vh + 0.1 * (hs - vh))[:, None]))


def _ego_mask(road: np.ndarray, small: np.ndarray, vh: float) -> np.ndarray:
    """The hood / dashboard band at the bottom (bool): see the module docstring."""
    hs, ws = road.shape
    ego = np.zeros((hs, ws), dtype=bool)
    lowest = max(int(np.ceil(vh)) + 2, int(0.6 * hs))
    if lowest >= hs - 1:
        return ego
    frac = road.mean(axis=1)
    top = hs
    while top > lowest and frac[top - 1] < 0.3:
        top -= 1
    # the hood's or dashboard's top edge: a horizontal edge across most of the width, far
    # stronger than the road's rows (which only have lane paint and seams)
    q = np.sqrt(np.maximum(small @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32), 0.0))
    step = max(1, hs // 128)
    gy = np.abs(q[2 * step :] - q[: -2 * step])  # row r + step
    strong = (gy > 0.08).mean(axis=1)
    rows = np.arange(step, hs - step)
    road_rows = (rows > vh + 2) & (rows < lowest)
    if road_rows.any():
        zone = rows >= lowest
        if zone.any() and strong[zone].max() >= max(0.5, 4.0 * float(np.median(strong[road_rows]))):
            cand = rows[zone][strong[zone] >= 0.5]
            top = min(top, int(cand.min()) + step)
    if top >= hs:
        return ego
    ego[top:] = True
    ext = max(1, int(0.04 * hs))
    run = np.ones(ws, dtype=bool)
    for r in range(top - 1, max(top - 1 - ext, -1), -1):  # follow the hood's curved edge up each column
        run &= ~road[r]
        if not run.any():
            break
        ego[r] = run
    return ego


def _close_vertical(mask: np.ndarray, gap: int) -> np.ndarray:
    """Fill vertical runs of False of at most ``gap`` cells between True cells (bool)."""
    if gap < 1:
        return mask
    cv2 = cv2_module()
    kernel_len = 2 * gap + 1
    if cv2 is not None and max(mask.shape) < 32768:
        kernel = np.ones((kernel_len, 1), np.uint8)
        out = cv2.morphologyEx(mask.view(np.uint8) if mask.flags.c_contiguous else mask.astype(np.uint8),
                               cv2.MORPH_CLOSE, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
        return out.astype(bool) | mask
    from scipy.ndimage import binary_closing

    return binary_closing(mask, structure=np.ones((kernel_len, 1), bool)) | mask


def _main_ground(ground: np.ndarray, ego: np.ndarray) -> np.ndarray:
    """Keep the ground components (4-connected) that reach the bottom of the visible ground
    (the lowest 10 % of the rows above the ego band) or cover ≥ 1 % of the frame: road-coloured
    islands on walls, barriers and cars are not ground."""
    labels, n = label_components(ground, 4)
    if n == 0:
        return ground
    hs = ground.shape[0]
    floor = int(np.argmax(ego.any(axis=1))) if ego.any() else hs
    keep = np.bincount(labels.ravel(), minlength=n + 1) >= 0.01 * ground.size
    keep[np.unique(labels[max(0, floor - max(1, int(0.1 * hs))) : floor])] = True
    keep[0] = False
    return keep[labels]


def _smooth_rows(contact: np.ndarray, width: int) -> np.ndarray:
    """Horizontal closing then opening of the contact rows over ``width`` columns: a cheap
    median-like filter (≈ 20× faster than a running median) that removes spikes narrower
    than ``width`` in both directions while keeping wider steps (object edges) in place."""
    cv2 = cv2_module()
    c = np.ascontiguousarray(contact, dtype=np.uint16 if contact.max(initial=0) < 65535 else np.int32)
    if cv2 is not None and c.dtype == np.uint16 and max(c.shape) < 32768:
        kernel = np.ones((1, width), np.uint8)
        c = cv2.morphologyEx(c, cv2.MORPH_CLOSE, kernel, borderType=cv2.BORDER_REPLICATE)
        return cv2.morphologyEx(c, cv2.MORPH_OPEN, kernel, borderType=cv2.BORDER_REPLICATE).astype(np.int32)
    from scipy.ndimage import grey_closing, grey_opening

    c = grey_closing(c, size=(1, width), mode="nearest")
    return grey_opening(c, size=(1, width), mode="nearest").astype(np.int32)


def layout_from_small(
    small: np.ndarray,
    camera: Mapping[str, float],
    *,
    sky: np.ndarray | None = None,
    road_mask: np.ndarray | None = None,
    bboxes: np.ndarray | None = None,
    cap_m: float | None = None,
    sky_depth_m: float | None = None,
) -> Layout:
    """The layout of a (small) linear RGB frame on its own grid; ``camera`` in that grid's pixels.

    ``sky`` / ``road_mask`` (nonzero = sky / road) replace the estimates; ``bboxes`` (N×≥4,
    x0 y0 x1 y1 in this grid's pixels) pin their objects. Returns :class:`Layout`.
    """
    cap_m = CAP_M if cap_m is None else float(cap_m)
    sky_depth_m = SKY_DEPTH_M if sky_depth_m is None else float(sky_depth_m)
    hs, ws = small.shape[:2]
    f, vh, ch = float(camera["focal_length_px"]), float(camera["horizon_row"]), float(camera["camera_height_m"])
    small = np.asarray(small, dtype=np.float32)
    if sky is None:
        top = max(1, min(hs, int(vh)))
        sky = sky_from_small(np.ascontiguousarray(small[:top]), hs, ws, 1)
    else:
        sky = np.asarray(sky) != 0
    rows = np.arange(hs)
    below = (rows + 0.5 > vh)[:, None]
    road = _road_like(small, vh)
    ego = _ego_mask(road & below, small, vh)
    if road_mask is not None:
        ground = (np.asarray(road_mask) != 0) & ~ego
    else:
        ground = _close_vertical(road & below & ~sky, max(1, int(0.02 * hs))) & below & ~ego & ~sky
        ground = _main_ground(ground, ego)
    # contact row: the nearest ground row at or below each pixel (a column with none: the bottom)
    has_ego = ego.any(axis=0)
    floor = np.where(has_ego, np.argmax(ego, axis=0), hs) - 1  # last non-ego row per column
    idx = np.where(ground, rows[:, None], np.maximum(floor, 0)[None, :]).astype(np.int32)
    for r in range(hs - 2, -1, -1):  # a running minimum up each column (≈ 2.5× np.minimum.accumulate here)
        np.minimum(idx[r], idx[r + 1], out=idx[r])
    contact = idx
    contact = _smooth_rows(contact, max(3, int(0.05 * ws)) | 1)
    z_row = ground_plane_depth((hs, 1), focal_length_px=f, horizon_row=vh, camera_height_m=ch, cap_m=cap_m)[:, 0]
    labels = np.full((hs, ws), VERTICAL, dtype=np.uint8)
    labels[ground] = GROUND
    labels[sky & ~ground] = SKY
    labels[ego] = EGO
    z = np.where(ground, z_row[:, None], z_row[np.clip(contact, 0, hs - 1)]).astype(np.float32)
    if ego.any():
        z[ego] = z_row[np.clip(floor, 0, hs - 1)][np.nonzero(ego)[1]]
    if bboxes is not None and len(bboxes):
        stand_boxes(z, bboxes, camera, cap_m)
        for x0, y0, x1, y1 in np.asarray(bboxes, dtype=np.float64)[:, :4]:  # boxes are never sky
            box = (slice(int(max(y0, 0)), int(max(np.ceil(y1), 0))), slice(int(max(x0, 0)), int(max(np.ceil(x1), 0))))
            labels[box][labels[box] == SKY] = VERTICAL
    z *= ray_factor((hs, ws), f, vh)
    z[labels == SKY] = sky_depth_m
    return Layout(labels, z)


def scene_layout(
    image: np.ndarray,
    *,
    camera: Mapping[str, float] | None = None,
    meta: Mapping[str, Any] | None = None,
    bboxes: np.ndarray | None = None,
    sky_mask: np.ndarray | None = None,
    road_mask: np.ndarray | None = None,
    cap_m: float | None = None,
    sky_depth_m: float | None = None,
    grid_px: int | None = None,
) -> Layout:
    """The :class:`Layout` (labels, distance in m) of a frame at full resolution.

    ``image`` is encoded (uint8/uint16 sRGB) or linear float RGB; ``camera`` a
    :func:`depth.camera_from` dict (default: from ``meta`` and the image size). Computed on
    a grid of ``grid_px`` (default :data:`LAYOUT_GRID_PX`) on the short side, then labels
    are upsampled by nearest cell and distance bilinearly.
    """
    h, w = image.shape[:2]
    if camera is None:
        camera = camera_from((h, w), meta, image=image)
    k = max(1, min(h, w) // (grid_px or LAYOUT_GRID_PX))
    hs, ws = h // k, w // k
    small = decode(np.ascontiguousarray(image[k // 2 : hs * k : k, k // 2 : ws * k : k, :3]), meta)
    sub = lambda m: None if m is None else np.ascontiguousarray(np.asarray(m)[k // 2 : hs * k : k, k // 2 : ws * k : k])  # noqa: E731
    boxes = None if bboxes is None or not len(bboxes) else np.asarray(bboxes, dtype=np.float64)[:, :4] / k
    cam = {"focal_length_px": camera["focal_length_px"] / k, "horizon_row": camera["horizon_row"] / k,
           "camera_height_m": camera["camera_height_m"]}
    lay = layout_from_small(small, cam, sky=sub(sky_mask), road_mask=sub(road_mask), bboxes=boxes, cap_m=cap_m,
                            sky_depth_m=sky_depth_m)
    if k == 1 and (hs, ws) == (h, w):
        return lay
    return Layout(_resize(lay.labels, (h, w), linear=False), _resize(lay.depth, (h, w), linear=True))


def _resize(field: np.ndarray, shape: tuple[int, int], *, linear: bool) -> np.ndarray:
    """A coarse grid at ``shape``: bilinear between cell centres, or the nearest cell."""
    h, w = shape
    cv2 = cv2_module()
    if cv2 is not None and h < 32768 and w < 32768:
        return cv2.resize(np.ascontiguousarray(field), (w, h), interpolation=cv2.INTER_LINEAR if linear else cv2.INTER_NEAREST)
    if not linear:
        rows = np.minimum((np.arange(h) * field.shape[0]) // h, field.shape[0] - 1)
        cols = np.minimum((np.arange(w) * field.shape[1]) // w, field.shape[1] - 1)
        return field[rows][:, cols]
    from scipy.ndimage import map_coordinates

    yy = (np.arange(h) + 0.5) * field.shape[0] / h - 0.5
    xx = (np.arange(w) + 0.5) * field.shape[1] / w - 0.5
    grid = np.meshgrid(yy, xx, indexing="ij")
    return map_coordinates(field, grid, order=1, mode="nearest").astype(np.float32)
