"""The flat-road camera: focal length, horizon row and height, and the distance along each pixel's ray
to the ground (Hautière et al., MVA 2006; Tarel & Hautière, ICCV 2009).
"""

from __future__ import annotations

import functools
from typing import Any, Mapping

import numpy as np

from domaug.kit import ParameterError, check_number, cv2_module

from .radiometry import decode
from .scene_fill import scene_of

#: Distance given to sky pixels (m): far enough that any fog or rain veil is opaque.
SKY_DEPTH_M = 1.0e4
#: Default cap for non-sky pixels above the horizon and the road near it (m).
CAP_M = 300.0
#: Defaults relative to the image size (Udacity CarND dash-cam, 1280×720).
FOCAL_PER_WIDTH = 0.9
HORIZON_PER_HEIGHT = 0.58
CAMERA_HEIGHT_M = 1.3
#: :func:`estimate_horizon` trusts a vanishing point whose vote is this many times the mean vote.
PEAK_CONTRAST = 4.0



def box_filter(a: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """Mean over a ``size`` box (2-D float, edges mirrored as ``scipy.ndimage.uniform_filter``'s
    default): ``cv2.blur`` (≈ 10× faster on a 256 px grid) or scipy."""
    sy, sx = (size, size) if isinstance(size, int) else size
    cv2 = cv2_module()
    if cv2 is not None and a.ndim == 2 and a.dtype in (np.float32, np.float64) and max(a.shape) < 32768 and a.size:
        return cv2.blur(np.ascontiguousarray(a), (sx, sy), borderType=cv2.BORDER_REFLECT)
    from scipy.ndimage import uniform_filter

    return uniform_filter(a, (sy, sx))


#: Short side (cells) of the coarse grids the scene is estimated on.
GRID_PX = 256


def grid_step(shape: tuple[int, int], grid_px: int | None = None) -> int:
    """The decimation k of a coarse grid with ≈ ``grid_px`` cells (default :data:`GRID_PX`) on the short side
    of a frame of ``shape`` (H, W): min(H, W) // grid_px, but never more than (2·grid_px)² cells (k ≥
    ⌈√(H·W) / (2·grid_px)⌉: a 640×480 or a KITTI 1242×375 frame gets k = 2, not a full-resolution grid
    4× the cells of a 1024² frame's); at least 1. Every coarse grid of the scene (layout, sky, horizon,
    :func:`.scene.coarse_scene`) takes its k from here.

    Not by pixel count alone (√(H·W) / grid_px would give a 1280×720 frame a 240×427 grid, 2× cheaper
    than 360×640): the thresholds of the layout and of the transforms built on it (fog's far road,
    lying snow on car bodies, the sun's shadow test) are tuned on these grids of the reference frames."""
    h, w = int(shape[0]), int(shape[1])
    g = int(grid_px or GRID_PX)
    return max(1, min(h, w) // g, int(np.ceil(np.sqrt(float(h) * float(w)) / (2 * g))))


def decimate(image: np.ndarray, k: int, rows: tuple[int, int], cols: int) -> np.ndarray:
    """Every ``k``-th pixel of ``image`` (centred in its k×k block: full pixel (k·i + k//2,
    k·j + k//2)) for grid rows ``rows[0]..rows[1]`` and the first ``cols`` grid columns; a
    contiguous copy. ``cv2.resize`` with ``INTER_NEAREST_EXACT`` picks exactly those pixels
    (≈ 4× faster than numpy's strided copy of a 3-channel frame)."""
    r0, r1 = rows
    view = image[r0 * k : r1 * k, : cols * k]
    cv2 = cv2_module()
    if (cv2 is not None and k > 1 and view.size and view.dtype in (np.uint8, np.uint16, np.float32)
            and view.ndim == 3 and view.shape[2] in (1, 3, 4) and view.strides[1] == view.shape[2] * view.itemsize
            and view.strides[2] == view.itemsize and max(view.shape[:2]) < 32768):
        out = cv2.resize(view, (cols, r1 - r0), interpolation=cv2.INTER_NEAREST_EXACT)
        return out.reshape(r1 - r0, cols, view.shape[2])
    return np.ascontiguousarray(view[k // 2 :: k, k // 2 :: k])


def camera_from(
    shape: tuple[int, int],
    meta: Mapping[str, Any] | None = None,
    *,
    focal_length_px: float | None = None,
    horizon_row: float | str | None = None,
    camera_height_m: float | None = None,
    image: np.ndarray | None = None,
) -> dict:
    """Resolve the camera: explicit value, else ``meta``, else a default.

    The horizon row's default, when neither the parameter nor ``meta`` gives one: with
    ``image``, the lane vanishing point of :func:`estimate_horizon` (a camera mounted higher
    or pitched differently from the Udacity one, e.g. comma2k19's horizon at 0.46·H, would
    otherwise turn every pixel between its real horizon and 0.58·H into an object standing
    at the horizon); without ``image``, or when the road's edges give no vanishing point,
    :data:`HORIZON_PER_HEIGHT`·H. ``horizon_row="estimate"`` is the same estimate, asked for
    explicitly (it also overrides ``meta``). Focal length and camera height default to
    :data:`FOCAL_PER_WIDTH`·W and :data:`CAMERA_HEIGHT_M`.
    """
    meta = meta or {}
    h, w = shape

    def pick(value, key, default):
        if value is not None:
            return float(value)
        if meta.get(key) is not None:
            return float(meta[key])
        return float(default)

    if isinstance(horizon_row, str) or (horizon_row is None and meta.get("horizon_row") is None
                                        and image is not None):
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
    if camera_args.get("horizon_row") is None or camera_args.get("horizon_row") == "estimate":
        image = scene_of(sample)["image"]  # the estimate must not see what nodata pixels hold
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

    The strongest oblique edges (20–70° from horizontal) of the band of rows 0.50–0.70·H
    vote, each along its own line, for where it crosses every candidate row
    (0.2–0.75·H); the best (row, column) cell wins (a Hough-style vote, vectorised, on a
    ≈256 px grid, decoding only that band). The band lies below the horizon of usual
    dash-cams and above their hood or dashboard (Udacity's hood starts at 0.93·H,
    comma2k19's dashboard at 0.72·H, Boreas' hood at ≈0.8·H), whose curved edges would
    otherwise converge just above themselves; trees and buildings higher up vote for
    nothing consistent. Straight-line extrapolation, so lens distortion biases it
    slightly. On the five frames of ``../shared/data/driving`` it lands within 4.1 % of
    H of the lane vanishing point. Returns None when fewer than 50 edges qualify or when the
    winning cell holds less than :data:`PEAK_CONTRAST` × the mean of the cells that got votes
    (random texture: ≈ 2–3; the five frames: 5–17).
    """
    h, w = image.shape[:2]
    k = grid_step((h, w))
    hh, ww = h // k, w // k
    r0, r1 = int(0.50 * hh), int(0.70 * hh)
    if r1 - r0 < 3 or ww < 8:
        return None
    # only the band (±2 rows for the smoothing and the central difference) is decoded
    b0, b1 = r0 - 2, min(hh, r1 + 2)
    band = decimate(image, k, (b0, b1), ww)
    band = decode(np.ascontiguousarray(band[..., :3]) if band.ndim == 3 else band, meta)
    y = (0.2126 * band[..., 0] + 0.7152 * band[..., 1] + 0.0722 * band[..., 2]) if band.ndim == 3 else band
    # perceptual (√) luminance, lightly smoothed: stable edge directions on JPEG and jaggies
    y = box_filter(np.sqrt(np.maximum(np.nan_to_num(y, nan=0.0, posinf=1.0), 0.0)), 3)
    r0, r1 = r0 - b0, min(r1, b1 - 1) - b0  # band coordinates
    ww = y.shape[1]
    gy = y[r0 + 1 : r1 + 1, 1:-1] - y[r0 - 1 : r1 - 1, 1:-1]
    gx = y[r0:r1, 2:] - y[r0:r1, :-2]
    mag = np.hypot(gx, gy).ravel()
    n = min(1500, mag.size // 4)
    if n < 50:
        return None
    idx = np.argpartition(mag, mag.size - n)[mag.size - n :]
    py, px = np.divmod(idx, ww - 2)
    py, px = py + r0 + b0, px + 1  # grid rows
    dx, dy = -gy.ravel()[idx], gx.ravel()[idx]  # edge direction ⟂ gradient
    s = np.abs(dy) / (np.hypot(dx, dy) + 1e-12)
    ok = (s > np.sin(np.radians(20))) & (s < np.sin(np.radians(70)))
    if ok.sum() < 50:
        return None
    px, py, slope, wgt = px[ok], py[ok], dx[ok] / dy[ok], mag[idx][ok]
    cand = np.arange(int(0.2 * hh), int(0.75 * hh))
    votes = _vanishing_votes(px, py, slope, wgt, cand, ww, 0.03 * hh)
    peak = int(np.argmax(votes))
    if votes[peak] < PEAK_CONTRAST * votes[votes > 0].mean():  # no common vanishing point (noise, texture)
        return None
    best = peak // (ww // 4 + 1)
    return float((cand[best] + 0.5) * k)


def _vanishing_votes(px: np.ndarray, py: np.ndarray, slope: np.ndarray, wgt: np.ndarray, cand: np.ndarray,
                     ww: int, gap: float) -> np.ndarray:
    """Each edge (px, py, slope = dx/dy) votes with weight ``wgt`` for the cell (candidate row,
    4-column bin) its line crosses, on rows ``cand`` at least ``gap`` above it; the votes,
    3×3 box-filtered (len(cand)·(ww//4 + 1), flat). Invalid crossings vote 0 into cell 0, so
    the sums are those of the crossings that count, added in the same order. Crossings in float32
    (a column within ±2⁻¹⁶ of a bin edge may change bin: the same peak on the reference frames)."""
    nb = ww // 4 + 1
    xs = np.subtract.outer(cand.astype(np.float32), py.astype(np.float32))
    xs *= slope.astype(np.float32)
    xs += px.astype(np.float32)
    valid = xs >= 0
    valid &= xs < ww
    valid &= np.less.outer(cand + gap, py)
    xs *= np.float32(0.25)  # exact: the bin of x is ⌊x / 4⌋
    cells = xs.astype(np.int32)
    cells += (np.arange(len(cand), dtype=np.int32) * nb)[:, None]
    cells *= valid
    votes = np.bincount(cells.ravel(), weights=(valid * wgt.astype(np.float32)).ravel(), minlength=len(cand) * nb)
    return box_filter(votes.reshape(len(cand), nb), 3).ravel()


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
def ray_factor(shape: tuple[int, int], focal: float, horizon: float) -> np.ndarray:
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


def stand_boxes(z: np.ndarray, bboxes: np.ndarray, camera: Mapping[str, float], cap_m: float) -> None:
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
