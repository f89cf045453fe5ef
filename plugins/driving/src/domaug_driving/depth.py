"""Scene geometry for the driving transforms: metric distance per pixel, measured or assumed.

When the sample carries a ``depth`` target (metres, e.g. from stereo or lidar) it is used
as is. Otherwise :func:`scene_depth` builds a documented prior from a flat-road camera
model (Hautière et al., MVA 2006; Tarel & Hautière, ICCV 2009):

- **road**: a pixel in row ``v`` below the horizon row ``v_h`` sees the ground at
  ``Z = f·h / (v + 0.5 − v_h)`` (focal length ``f`` px, camera height ``h`` m);
- **sky**: bright, smooth pixels above the horizon connected to the top edge (or the
  pixels of a ``sky_mask``) are at :data:`SKY_DEPTH_M` (10 km: fog turns them into airlight);
- **other pixels above the horizon** (trees, buildings, signs) are capped at ``cap_m``
  (300 m by default), as is the road close to the horizon;
- **labelled boxes** stand on the road like billboards: the whole box takes the depth
  of its bottom edge, ``Z = f·h / (y_max − v_h)`` — without this, a car 30 m ahead would
  be given the sky's depth above the horizon and vanish in 300 m fog;
- a ``road_mask`` forces the ground-plane depth on its pixels;
- finally ``Z`` becomes the distance along the ray, ``ℓ = Z·√(1 + ((u−c_x)/f)² + ((v−v_h)/f)²)``,
  which is what Koschmieder's law needs.

Camera defaults scale with the image: ``f = 0.9·W`` (the Udacity dash-cam: 1152 px at
1280 px wide), ``v_h = 0.58·H`` (its horizon at row ≈ 420 of 720), ``h = 1.3 m``. Each can
be given as a transform parameter or in ``meta`` (``focal_length_px``, ``horizon_row``,
``camera_height_m``).
"""

from __future__ import annotations

import functools
from typing import Any, Mapping

import numpy as np

from domaug.kit import ParameterError, check_number, cv2_module

from .radiometry import decode

#: Distance given to sky pixels (m): far enough that any fog or rain veil is opaque.
SKY_DEPTH_M = 1.0e4
#: Default cap for non-sky pixels above the horizon and the road near it (m).
CAP_M = 300.0
#: Defaults relative to the image size (Udacity CarND dash-cam, 1280×720).
FOCAL_PER_WIDTH = 0.9
HORIZON_PER_HEIGHT = 0.58
CAMERA_HEIGHT_M = 1.3

__all__ = ["CAP_M", "SKY_DEPTH_M", "camera_from", "camera_of", "check_camera_args", "depth_from_disparity",
           "depth_of_sample", "estimate_horizon", "estimate_sky", "estimate_sky_encoded", "ground_plane_depth",
           "scene_depth", "sky_from_small"]


def camera_from(
    shape: tuple[int, int],
    meta: Mapping[str, Any] | None = None,
    *,
    focal_length_px: float | None = None,
    horizon_row: float | str | None = None,
    camera_height_m: float | None = None,
    image: np.ndarray | None = None,
) -> dict:
    """Resolve the camera: explicit value, else ``meta``, else the size-scaled default.

    ``horizon_row="estimate"`` finds it with :func:`estimate_horizon` on ``image``
    (falling back to the default when the lane lines give no clear vanishing point).
    """
    meta = meta or {}
    h, w = shape

    def pick(value, key, default):
        if value is not None:
            return float(value)
        if meta.get(key) is not None:
            return float(meta[key])
        return float(default)

    if isinstance(horizon_row, str):
        found = estimate_horizon(image, meta) if image is not None else None
        horizon_row = found if found is not None else HORIZON_PER_HEIGHT * h
    return {
        "focal_length_px": pick(focal_length_px, "focal_length_px", FOCAL_PER_WIDTH * w),
        "horizon_row": pick(horizon_row, "horizon_row", HORIZON_PER_HEIGHT * h),
        "camera_height_m": pick(camera_height_m, "camera_height_m", CAMERA_HEIGHT_M),
    }


def camera_of(sample: Mapping[str, Any], camera_args: Mapping[str, Any]) -> dict:
    """The camera of ``sample`` for a transform's ``make_params``: :func:`camera_from` with the
    transform's validated camera parameters (:func:`check_camera_args`)."""
    image = sample["image"]
    return camera_from(image.shape[:2], sample.get("meta"), image=image, **camera_args)


def check_camera_args(focal_length_px: Any, horizon_row: Any, camera_height_m: Any) -> dict:
    """Validate a transform's camera parameters (None = from meta or the default)."""
    if isinstance(horizon_row, str) and horizon_row != "estimate":
        raise ParameterError(f"horizon_row must be a row number, None or 'estimate', got {horizon_row!r}")
    return {
        "focal_length_px": None if focal_length_px is None else check_number(focal_length_px, "focal_length_px", low=1.0),
        "horizon_row": horizon_row if horizon_row is None or isinstance(horizon_row, str)
        else check_number(horizon_row, "horizon_row"),
        "camera_height_m": None if camera_height_m is None
        else check_number(camera_height_m, "camera_height_m", low=0.0, low_inclusive=False),
    }


def estimate_horizon(image: np.ndarray, meta: Mapping[str, Any] | None = None) -> float | None:
    """Horizon row from the vanishing point of the road's edges (lane lines, road borders).

    The strongest oblique edges (20–70° from horizontal) of the lower road area
    (rows 0.62–0.88·H) vote, each along its own line, for where it crosses every
    candidate row; the best (row, column) cell wins (a Hough-style vote, vectorised).
    Straight-line extrapolation, so lens distortion biases it slightly (on the three
    barrel-distorted Udacity frames it lands 2.5–7 px above the lane vanishing point).
    Returns None when fewer than 50 edges qualify.
    """
    h, w = image.shape[:2]
    k = max(1, min(h, w) // 360)
    small = decode(np.ascontiguousarray(image[::k, ::k]), meta)
    y = (0.2126 * small[..., 0] + 0.7152 * small[..., 1] + 0.0722 * small[..., 2]) if small.ndim == 3 else small
    from scipy.ndimage import uniform_filter

    # perceptual (√) luminance, lightly smoothed: stable edge directions on JPEG and jaggies
    y = uniform_filter(np.sqrt(np.maximum(y, 0.0)), 3)
    hh, ww = y.shape
    r0, r1 = int(0.62 * hh), int(0.88 * hh)
    if r1 - r0 < 3 or ww < 8:
        return None
    gy = y[r0 + 1 : r1 + 1, 1:-1] - y[r0 - 1 : r1 - 1, 1:-1]
    gx = y[r0:r1, 2:] - y[r0:r1, :-2]
    mag = np.hypot(gx, gy).ravel()
    n = min(4000, mag.size // 4)
    if n < 50:
        return None
    idx = np.argpartition(mag, mag.size - n)[mag.size - n :]
    py, px = np.divmod(idx, ww - 2)
    py, px = py + r0, px + 1
    dx, dy = -gy.ravel()[idx], gx.ravel()[idx]  # edge direction ⟂ gradient
    s = np.abs(dy) / (np.hypot(dx, dy) + 1e-12)
    ok = (s > np.sin(np.radians(20))) & (s < np.sin(np.radians(70)))
    if ok.sum() < 50:
        return None
    px, py, slope, wgt = px[ok], py[ok], dx[ok] / dy[ok], mag[idx][ok]
    cand = np.arange(int(0.2 * hh), int(0.75 * hh))
    xs = px[None, :] + (cand[:, None] - py[None, :]) * slope[None, :]
    valid = (xs >= 0) & (xs < ww) & (py[None, :] > cand[:, None] + 0.03 * hh)
    nb = ww // 4 + 1
    cells = np.broadcast_to(np.arange(len(cand))[:, None] * nb, xs.shape)[valid] + (xs[valid] / 4).astype(np.int64)
    votes = np.bincount(cells, weights=np.broadcast_to(wgt[None, :], xs.shape)[valid], minlength=len(cand) * nb)
    votes = uniform_filter(votes.reshape(len(cand), nb), (3, 3))
    best = int(np.argmax(votes)) // nb
    return float((cand[best] + 0.5) * k)


def depth_from_disparity(disparity: np.ndarray, focal_px: float, baseline_m: float, doffs_px: float = 0.0) -> np.ndarray:
    """Metric depth ``Z = f·B / (d + doffs)`` from a stereo disparity map (px).

    ``doffs_px`` is the principal-point offset between the two cameras (Middlebury's
    ``doffs``; 0 for most rigs). Pixels with no valid disparity (NaN, inf, ``d + doffs ≤ 0``)
    get ``inf``.
    """
    d = np.asarray(disparity, dtype=np.float64) + float(doffs_px)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = float(focal_px) * float(baseline_m) / d
    z[~np.isfinite(d) | (d <= 0)] = np.inf
    return z.astype(np.float32)


@functools.lru_cache(maxsize=8)
def _ray_factor(shape: tuple[int, int], focal: float, horizon: float) -> np.ndarray:
    """√(1 + ((u−c_x)/f)² + ((v−v_h)/f)²) per pixel (cached; callers must not modify it)."""
    h, w = shape
    u = ((np.arange(w, dtype=np.float32) + 0.5 - w / 2) / focal) ** 2
    v = ((np.arange(h, dtype=np.float32) + 0.5 - horizon) / focal) ** 2
    ray = np.sqrt(1.0 + v[:, None] + u[None, :]).astype(np.float32)
    ray.flags.writeable = False  # cached and shared
    return ray


def ground_plane_depth(
    shape: tuple[int, int],
    *,
    focal_length_px: float,
    horizon_row: float,
    camera_height_m: float,
    cap_m: float = CAP_M,
) -> np.ndarray:
    """Per-row flat-road depth ``Z = f·h/(v + 0.5 − v_h)`` (m), capped at ``cap_m``; H×1 float32."""
    h = shape[0]
    dv = np.arange(h, dtype=np.float64) + 0.5 - float(horizon_row)
    with np.errstate(divide="ignore"):
        z = np.where(dv > 0, float(focal_length_px) * float(camera_height_m) / np.maximum(dv, 1e-9), np.inf)
    return np.minimum(z, cap_m).astype(np.float32)[:, None]


def estimate_sky(linear_rgb: np.ndarray, horizon_row: float) -> np.ndarray:
    """Sky pixels: bright, smooth, not green-dominant, above the horizon, in regions touching
    the top edge (or covering ≥ 2 % of the area above the horizon).

    Works on a decimated copy (≈256 px on the short side), so the mask is blocky at
    that scale. Returns an H×W bool mask.
    """
    h, w = linear_rgb.shape[:2]
    k, top, ww = _sky_grid(h, w, horizon_row)
    # decimate (every k-th pixel, centred in its block); only rows above the horizon matter
    small = np.ascontiguousarray(linear_rgb[k // 2 : top * k : k, k // 2 : ww * k : k], dtype=np.float32)
    return sky_from_small(small, h, w, k)


def _sky_grid(h: int, w: int, horizon_row: float) -> tuple[int, int, int]:
    k = max(1, min(h, w) // 256)
    return k, max(1, min(h // k, int(horizon_row / k))), w // k


def estimate_sky_encoded(image: np.ndarray, meta: Mapping[str, Any] | None, horizon_row: float) -> np.ndarray:
    """:func:`estimate_sky` on an encoded image, decoding only the decimated pixels it reads."""
    h, w = image.shape[:2]
    k, top, ww = _sky_grid(h, w, horizon_row)
    small = decode(np.ascontiguousarray(image[k // 2 : top * k : k, k // 2 : ww * k : k, :3]), meta)
    return sky_from_small(small, h, w, k)


#: Cells the sky may grow past its smooth core into bright, not-green cells: the smoothness
#: test leaves out the textured edge (sky between the branches of a tree line), whose
#: daylight would otherwise count as ground (a bright rim at night, no airlight in fog).
SKY_EDGE_GROW = 2


def cand_loose(y: np.ndarray, small: np.ndarray, ref: float, hh: int, ww: int, top: int) -> np.ndarray:
    """Bright and not green (the sky test without smoothness), on the (hh, ww) grid."""
    loose = np.zeros((hh, ww), dtype=bool)
    loose[:top] = (y >= 0.35 * ref) & (small[..., 2] >= 0.8 * small[..., 1])
    return loose


def _grow_into_bright_edges(sky: np.ndarray, loose: np.ndarray) -> np.ndarray:
    """Grow ``sky`` by up to :data:`SKY_EDGE_GROW` cells (8-connected) through ``loose`` cells."""
    if not sky.any():
        return sky
    allowed = loose | sky
    cv2 = cv2_module()
    if cv2 is not None and max(sky.shape) < 32768:
        grown = np.ascontiguousarray(sky, dtype=np.uint8)
        kernel = np.ones((3, 3), np.uint8)
        for _ in range(SKY_EDGE_GROW):  # one cell per step, only into allowed cells
            grown = cv2.dilate(grown, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
            grown &= allowed
        return grown.astype(bool)
    from scipy.ndimage import binary_dilation

    return binary_dilation(sky, structure=np.ones((3, 3), bool), iterations=SKY_EDGE_GROW, mask=allowed)


def _label(mask: np.ndarray, connectivity: int) -> tuple[np.ndarray, int]:
    """Connected components of a 2-D bool mask (8- or 4-connected): (labels, count), background 0.
    ``cv2.connectedComponents`` (≈ 10× faster) or ``scipy.ndimage.label``; the same partition."""
    cv2 = cv2_module()
    if cv2 is not None and mask.size and max(mask.shape) < 2**15:
        n, labels = cv2.connectedComponents(np.ascontiguousarray(mask, dtype=np.uint8), connectivity=connectivity,
                                            ltype=cv2.CV_32S)
        return labels, int(n) - 1
    from scipy.ndimage import label

    return label(mask, structure=np.ones((3, 3), dtype=bool) if connectivity == 8 else None)


def sky_from_small(small: np.ndarray, h: int, w: int, k: int) -> np.ndarray:
    """The H×W sky mask of :func:`estimate_sky` from ``small``: the linear pixels above the
    horizon on the grid of every ``k``-th pixel (k = 1: ``small`` is the grid itself)."""
    hh, ww = h // k, w // k
    top = small.shape[0]
    y = 0.2126 * small[..., 0] + 0.7152 * small[..., 1] + 0.0722 * small[..., 2]
    ref = float(np.partition(y.ravel(), int(0.95 * (y.size - 1)))[int(0.95 * (y.size - 1))])
    gy = np.abs(np.diff(y, axis=0, append=y[-1:]))
    gx = np.abs(np.diff(y, axis=1, append=y[:, -1:]))
    smooth = (gx + gy) < 0.04 * max(ref, 1e-3) + 0.002
    not_green = small[..., 2] >= 0.8 * small[..., 1]
    cand = np.zeros((hh, ww), dtype=bool)
    cand[:top] = (y >= 0.35 * ref) & smooth & not_green
    # sky = candidate regions (8-connected) that touch the top edge or are large; sky seen
    # through branches stays sky, a bright wall below a tree line does not join it
    labels, n = _label(cand, 8)
    if n == 0:
        return np.zeros((h, w), dtype=bool)
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    keep = sizes >= 0.02 * max(1, top * ww)
    keep[np.unique(labels[0])] = True
    keep[0] = False
    reached = keep[labels]
    # fill small holes (JPEG noise, a bird, a wire crossing): enclosed non-sky blobs < 0.5 %.
    # Holes are the 4-connected non-sky components not touching the border (what
    # binary_fill_holes finds), here with one labelling pass instead of its slow propagation
    hl, nh = _label(~reached, 4)
    if nh:
        small_hole = np.bincount(hl.ravel(), minlength=nh + 1) < 0.005 * max(1, top * ww)
        small_hole[0] = False
        small_hole[np.unique(np.concatenate([hl[0], hl[-1], hl[:, 0], hl[:, -1]]))] = False
        if small_hole.any():
            reached |= small_hole[hl]
    reached = _grow_into_bright_edges(reached, cand_loose(y, small, ref, hh, ww, top))
    if k > 1:
        cv2 = cv2_module()
        if cv2 is not None and reached.size and hh * k < 32768 and ww * k < 32768:  # nearest ×k = exact repeat
            up = cv2.resize(np.ascontiguousarray(reached).view(np.uint8), (ww * k, hh * k), interpolation=cv2.INTER_NEAREST)
            reached = up.view(bool)
        else:
            reached = np.repeat(np.repeat(reached, k, axis=0), k, axis=1)
        full = np.zeros((h, w), dtype=bool)
        full[: hh * k, : ww * k] = reached
        if ww * k < w:
            full[: hh * k, ww * k :] = full[: hh * k, ww * k - 1 : ww * k]
        return full
    return reached


def scene_depth(
    shape: tuple[int, int],
    *,
    camera: Mapping[str, float],
    depth: np.ndarray | None = None,
    linear_rgb: np.ndarray | None = None,
    bboxes: np.ndarray | None = None,
    sky_mask: np.ndarray | None = None,
    road_mask: np.ndarray | None = None,
    cap_m: float = CAP_M,
    sky_depth_m: float = SKY_DEPTH_M,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Distance along each pixel's ray (m, float32 H×W): the ``depth`` target or the prior.

    ``camera`` is a :func:`camera_from` dict. ``linear_rgb`` enables sky estimation;
    ``sky_mask``/``road_mask`` (nonzero = sky/road) replace or refine it. A given
    ``depth`` is used as is, except non-finite or non-positive values, which become sky.
    The prior is written to ``out`` (C-contiguous float32 H×W) when given, else a new array.
    """
    if depth is not None:
        d = np.array(depth, dtype=np.float32)
        d[~np.isfinite(d) | (d <= 0)] = sky_depth_m
        return np.minimum(d, sky_depth_m)
    f = camera["focal_length_px"]
    vh = camera["horizon_row"]
    ch = camera["camera_height_m"]
    z = np.empty(shape, dtype=np.float32) if out is None else out
    np.copyto(z, ground_plane_depth(shape, focal_length_px=f, horizon_row=vh, camera_height_m=ch, cap_m=cap_m))
    if road_mask is not None:
        z_road = ground_plane_depth(shape, focal_length_px=f, horizon_row=vh, camera_height_m=ch, cap_m=sky_depth_m)
        np.copyto(z, z_road, where=road_mask != 0)
    has_boxes = bboxes is not None and len(bboxes)
    if has_boxes:
        _stand_boxes(z, bboxes, camera, cap_m)
    sky = None
    if sky_mask is not None:
        sky = sky_mask != 0
    elif linear_rgb is not None:
        sky = estimate_sky(linear_rgb, vh)
    z *= _ray_factor(tuple(shape), float(f), float(vh))
    if sky is not None:
        if has_boxes:
            for x0, y0, x1, y1 in np.asarray(bboxes, dtype=np.float64)[:, :4]:  # boxes are never sky
                sky[int(max(y0, 0)) : int(max(np.ceil(y1), 0)), int(max(x0, 0)) : int(max(np.ceil(x1), 0))] = False
        if road_mask is not None:
            sky = sky & (road_mask == 0)
        np.copyto(z, np.float32(sky_depth_m), where=sky)
    return z


def _stand_boxes(z: np.ndarray, bboxes: np.ndarray, camera: Mapping[str, float], cap_m: float) -> None:
    """In place: each box takes the ground depth of its bottom edge, Z = f·h / (y_max − v_h)
    (a billboard standing on the road; ``cap_m`` when it ends at or above the horizon)."""
    f, vh, ch = camera["focal_length_px"], camera["horizon_row"], camera["camera_height_m"]
    h, w = z.shape
    b = np.asarray(bboxes, dtype=np.float64)[:, :4]
    bottom = b[:, 3] - vh
    zb = np.where(bottom > 1.0, f * ch / np.maximum(bottom, 1.0), cap_m)
    zb = np.minimum(zb, cap_m)
    for i in np.argsort(-zb):  # far boxes first, near ones paint over them
        x0, y0 = int(np.clip(np.floor(b[i, 0]), 0, w)), int(np.clip(np.floor(b[i, 1]), 0, h))
        x1, y1 = int(np.clip(np.ceil(b[i, 2]), 0, w)), int(np.clip(np.ceil(b[i, 3]), 0, h))
        z[y0:y1, x0:x1] = zb[i]


def depth_of_sample(
    sample: Mapping[str, Any],
    camera: Mapping[str, float],
    linear_rgb: np.ndarray | None = None,
    *,
    cap_m: float = CAP_M,
    use_boxes: bool = True,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """:func:`scene_depth` (and its ``out``) fed from a sample's ``depth``, ``bboxes``, ``sky_mask``, ``road_mask``.

    Without a ``sky_mask`` the sky is estimated from ``linear_rgb`` when given, else from
    the sample's own (encoded) image, decoding only the pixels the estimate reads.
    """
    shape = tuple(sample["image"].shape[:2])
    sky_mask = sample.get("sky_mask")
    if sky_mask is None and sample.get("depth") is None and linear_rgb is None:
        sky_mask = estimate_sky_encoded(sample["image"], sample.get("meta"), camera["horizon_row"])
    return scene_depth(
        shape,
        camera=camera,
        depth=sample.get("depth"),
        linear_rgb=linear_rgb,
        bboxes=sample.get("bboxes") if use_boxes else None,
        sky_mask=sky_mask,
        road_mask=sample.get("road_mask"),
        cap_m=cap_m,
        out=out,
    )
