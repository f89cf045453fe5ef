"""driving.MotionBlur: blur from the car's own motion during the exposure (zoom from the FOE, or pan)."""

from __future__ import annotations

import functools
import math
from typing import Any, Mapping

import numpy as np

from domaug.kit import Context, ParameterError, check_range, cv2_module, sample_uniform

from . import radiometry
from .base import DrivingTransform
from .depth import SKY_DEPTH_M, camera_of, check_camera_args
from .layout import EGO
from .scene import coarse_scene, upsample_mask
from .plane_ops import upsample
from .scratch import buffer

MODES = ("radial", "lateral")
#: The radial blur is computed on the half-size frame; the finest octave (the frame minus its
#: half-size copy) is added back with weight min(1, this / blur length in px): a box of length
#: L along the ray keeps ~2/L of that octave's amplitude averaged over directions (all of it
#: across the ray, none along it); where nothing moves the frame comes back unchanged.
DETAIL_BLUR_PX = 2.0
#: At most this many doubling passes (2⁶ = 64 samples along each ray).
MAX_PASSES = 6
#: A remap rectangle costs about as much as this many pixels (call overhead): neighbouring
#: runs of cells are merged into one rectangle while that wastes fewer pixels.
RECT_OVERHEAD_PX = 10000
#: Rows of pixels per band of those rectangles (at least one cell of the grid).
BAND_PX = 32


def radial_blur(linear: np.ndarray, zoom: np.ndarray, foe: tuple[float, float]) -> np.ndarray:
    """Average each pixel over the segment toward the focus of expansion.

    ``zoom`` is the fractional outward motion a = v·T/Z of each pixel during the exposure
    (H×W, or on a coarser grid over the frame: upsampled bilinearly): the pixel at p
    integrated light from scene points between foe + (p−foe)(1−a) and p, a segment of
    a·|p − foe| px. Computed by recursive doubling (I ← ½(I + I sampled at p + D/2ᵏ),
    bilinear ``cv2.remap``), which averages 2ᴷ evenly spaced samples in K passes, on the
    half-size frame in 4 channels (OpenCV remaps 4 float channels ~2× faster than 3, and a
    quarter of the pixels); each pass only touches the rectangles where its step reaches a
    quarter pixel (bounds from a coarse grid of ``zoom``). The finest octave comes back as
    the blur allows (:func:`_two_scale`). ``linear`` (H×W×3 float32) may be overwritten;
    returns the blurred image.
    """
    h, w = linear.shape[:2]
    zoom = np.ascontiguousarray(zoom, dtype=np.float32)
    if not (h and w) or not zoom.any():
        return linear
    cv2 = cv2_module()
    if cv2 is None:
        return _radial_blur_scipy(linear, zoom, foe)
    out = np.ascontiguousarray(linear, dtype=np.float32)
    scale = 0.5 if min(h, w) >= 16 else 1.0
    grid = _BlurGrid(zoom, (h, w), foe)
    rects = _pass_rects(grid, scale)
    if not any(rects):
        return out
    field = _ShiftField(zoom, (h, w), foe, scale)
    small = _rgbx(out, field.shape, cv2)
    if scale == 1.0:
        _doubling(small, field, rects, cv2)
        return cv2.cvtColor(small, cv2.COLOR_RGBA2RGB, dst=out)
    return _two_scale(out, small, field, rects, cv2)


def _two_scale(image: np.ndarray, small: np.ndarray, field: "_ShiftField", rects: list, cv2: Any) -> np.ndarray:
    """B(I) ≈ up(B(S)) + g·D: S the half-size frame (4 channels), D = I − up(S) its finest
    octave, g = min(1, :data:`DETAIL_BLUR_PX` / blur length). Written as g·I + up(B(S) − g·S):
    exactly I where nothing moves (g = 1, B(S) = S)."""
    h, w = image.shape[:2]
    g_small = _detail_weight(field)
    blurred = buffer("mb_blurred", small.shape)
    np.copyto(blurred, small)
    _doubling(blurred, field, rects, cv2)
    cv2.multiply(small, cv2.merge((g_small,) * 4, dst=buffer("mb_g4", small.shape)), dst=small)
    cv2.subtract(blurred, small, dst=blurred)  # B(S) − g·S
    change = cv2.resize(cv2.cvtColor(blurred, cv2.COLOR_RGBA2RGB), (w, h), dst=buffer("mb_change", (h, w, 3)),
                        interpolation=cv2.INTER_LINEAR)
    g = cv2.resize(g_small, (w, h), dst=buffer("mb_g", (h, w)), interpolation=cv2.INTER_LINEAR)
    cv2.multiply(image, cv2.merge((g, g, g), dst=buffer("mb_g3", (h, w, 3))), dst=image)  # in place: the
    return cv2.add(image, change, dst=image)  # caller's array (scratch only when its encode copies)


def _rgbx(image: np.ndarray, shape: tuple[int, int], cv2: Any) -> np.ndarray:
    """``image`` (H×W×3) at ``shape`` (2×2 means when it is half the size) in four channels
    (the fourth unused), a scratch buffer."""
    hs, ws = shape
    small = image
    if (hs, ws) != image.shape[:2]:
        small = cv2.resize(image, (ws, hs), dst=buffer("mb_small3", (hs, ws, 3)), interpolation=cv2.INTER_LINEAR)
    return cv2.cvtColor(small, cv2.COLOR_RGB2RGBA, dst=buffer("mb_small", (hs, ws, 4)))


def _detail_weight(field: "_ShiftField") -> np.ndarray:
    """g = min(1, :data:`DETAIL_BLUR_PX` / blur length) on the half-size grid (the blur length
    |D| in full-size px)."""
    g = cv2_module().magnitude(field.dx, field.dy, buffer("mb_g_small", field.shape))
    keep = np.float32(DETAIL_BLUR_PX * field.scale)
    np.maximum(g, keep, out=g)
    return np.divide(keep, g, out=g)


class _BlurGrid:
    """The blur length a·|p − foe| (px) on a coarse grid of cells, its upper bound over each
    cell and its 8 neighbours (a bilinear upsample reads them); ``rows``/``cols`` the cells'
    pixel edges."""

    def __init__(self, coarse: np.ndarray, shape: tuple[int, int], foe: tuple[float, float]) -> None:
        h, w = shape
        coarse = _decimate_max(coarse, shape)
        hs, ws = coarse.shape
        self.rows = np.linspace(0, h, hs + 1).round().astype(int)
        self.cols = np.linspace(0, w, ws + 1).round().astype(int)
        ry = np.maximum(np.abs(self.rows[:-1] + 0.5 - foe[0]), np.abs(self.rows[1:] - 0.5 - foe[0]))
        rx = np.maximum(np.abs(self.cols[:-1] + 0.5 - foe[1]), np.abs(self.cols[1:] - 0.5 - foe[1]))
        far = np.sqrt(ry[:, None] ** 2 + rx[None, :] ** 2).astype(np.float32)
        cv2 = cv2_module()
        self.length = cv2.dilate(coarse * far, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE)


def _decimate_max(zoom: np.ndarray, shape: tuple[int, int], cells: int = 128) -> np.ndarray:
    """``zoom`` itself when already coarse (≤ ``cells``·2 a side), else the largest value of
    each block of a ~``cells``² grid (a full-resolution field from a ``depth`` target)."""
    h, w = zoom.shape
    if max(h, w) <= 2 * cells:
        return np.ascontiguousarray(zoom, dtype=np.float32)
    k = max(1, int(math.ceil(max(h, w) / cells)))
    hs, ws = -(-h // k), -(-w // k)
    padded = np.zeros((hs * k, ws * k), np.float32)
    padded[:h, :w] = zoom
    return padded.reshape(hs, k, ws, k).max(axis=(1, 3))


def _pass_rects(grid: "_BlurGrid", scale: float) -> list[list[tuple[int, int, int, int]]]:
    """Per doubling pass (step ½, ¼, … of the blur), the pixel rectangles (r0, r1, c0, c1) of the
    frame at ``scale`` where that pass's step reaches a quarter pixel (taps end ≤ 1 px apart)."""
    length = grid.length * np.float32(scale)
    passes = int(np.clip(math.ceil(math.log2(max(float(length.max()), 1.0))), 0, MAX_PASSES))
    rows, cols = (np.floor(e * scale).astype(int) for e in (grid.rows, grid.cols))
    return [_cover(length * np.float32(0.5**k) >= 0.25, rows, cols) for k in range(1, passes + 1)]


def _cover(need: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Few rectangles (r0, r1, c0, c1) covering the ``need`` cells: the runs of cells in each
    band of :data:`BAND_PX` rows, merged with a neighbour (across a gap, or with the
    rectangle above) while that wastes fewer than :data:`RECT_OVERHEAD_PX` pixels (the cost
    of one more call)."""
    step = max(1, int(round(BAND_PX / max(float(rows[1] - rows[0]), 1.0))))  # rows of cells per band
    if step > 1:
        n = -(-need.shape[0] // step) * step
        need = np.pad(need, ((0, n - need.shape[0]), (0, 0))).reshape(-1, step, need.shape[1]).any(axis=1)
        rows = np.append(rows[:-1:step], rows[-1])
    edges = np.diff(np.pad(need.view(np.int8), ((0, 0), (1, 1))), axis=1)
    band, start = np.nonzero(edges == 1)
    stop = np.nonzero(edges == -1)[1]  # same order: row-major, one stop per start
    bands: dict[int, list[list[int]]] = {}
    for i, a, b in zip(band.tolist(), start.tolist(), stop.tolist()):
        runs = bands.setdefault(i, [])
        height = int(rows[i + 1] - rows[i])
        if runs and (int(cols[a]) - runs[-1][3]) * height < RECT_OVERHEAD_PX:  # across a narrow gap
            runs[-1][3] = int(cols[b])
        else:
            runs.append([int(rows[i]), int(rows[i + 1]), int(cols[a]), int(cols[b])])
    rects: list[list[int]] = []
    stacked = False  # whether the last rectangle spans bands that held it alone (it may widen)
    for runs in bands.values():
        q = rects[-1] if rects else []
        if len(runs) == 1 and stacked and q[1] == runs[0][0] and _union_waste(q, runs[0]) < RECT_OVERHEAD_PX:
            r = runs[0]
            q[1], q[2], q[3] = r[1], min(q[2], r[2]), max(q[3], r[3])
            continue
        stacked = len(runs) == 1
        rects.extend(runs)
    return [tuple(r) for r in rects]


def _union_waste(q: list[int], r: list[int]) -> int:
    """Pixels of the bounding rectangle of ``q`` and ``r`` (stacked) that neither covers."""
    area = lambda a: (a[1] - a[0]) * (a[3] - a[2])  # noqa: E731
    return area([q[0], r[1], min(q[2], r[2]), max(q[3], r[3])]) - area(q) - area(r)


class _ShiftField:
    """The shift D = −a·(p − foe) of every pixel of the ``frame`` (H, W) at ``scale`` (px of that
    frame; ``zoom`` a on any grid over it), and the pixel coordinates the maps are built from
    (scratch buffers)."""

    def __init__(self, zoom: np.ndarray, frame: tuple[int, int], foe: tuple[float, float], scale: float) -> None:
        cv2 = cv2_module()
        h, w = (int(round(n * scale)) for n in frame)
        tag = "full" if scale == 1.0 else "half"
        if zoom.shape != (h, w):  # bilinear between cell centres
            zoom = cv2.resize(zoom, (w, h), dst=buffer(f"mb_zoom_{tag}", (h, w)), interpolation=cv2.INTER_LINEAR)
        self.xx, self.yy = _pixel_grid(h, w)
        cx = np.float32(foe[1] * scale - 0.5) - self.xx[:1]  # (foe − p) along x, one row
        cy = np.float32(foe[0] * scale - 0.5) - self.yy[:, :1]
        self.dx = np.multiply(zoom, cx, out=buffer(f"mb_dx_{tag}", (h, w)))
        self.dy = np.multiply(zoom, cy, out=buffer(f"mb_dy_{tag}", (h, w)))
        self.tag, self.shape, self.scale = tag, (h, w), scale


@functools.lru_cache(maxsize=4)
def _pixel_grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Column and row index planes (float32 H×W, read-only)."""
    xx = np.broadcast_to(np.arange(w, dtype=np.float32), (h, w)).copy()
    yy = np.broadcast_to(np.arange(h, dtype=np.float32)[:, None], (h, w)).copy()
    xx.flags.writeable = yy.flags.writeable = False
    return xx, yy


def _doubling(image: np.ndarray, field: _ShiftField, rects: list, cv2: Any) -> None:
    """In place: pass k averages each pixel of its rectangles (disjoint) with the image before
    the pass sampled at p + D/2ᵏ (bilinear, edges replicated)."""
    h, w = image.shape[:2]
    maps_x, maps_y = buffer(f"mb_map_x_{field.tag}", (h, w)), buffer(f"mb_map_y_{field.tag}", (h, w))
    moved = buffer(f"mb_moved_{field.tag}", image.shape)
    for k, pass_rects in enumerate(rects, start=1):
        frac = float(0.5**k)
        for r0, r1, c0, c1 in pass_rects:  # every sample first: no rectangle reads another's result
            map_x = cv2.scaleAdd(field.dx[r0:r1, c0:c1], frac, field.xx[r0:r1, c0:c1], dst=maps_x[r0:r1, c0:c1])
            map_y = cv2.scaleAdd(field.dy[r0:r1, c0:c1], frac, field.yy[r0:r1, c0:c1], dst=maps_y[r0:r1, c0:c1])
            cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE,
                      dst=moved[r0:r1, c0:c1])
        for r0, r1, c0, c1 in pass_rects:
            band = image[r0:r1, c0:c1]
            cv2.addWeighted(band, 0.5, moved[r0:r1, c0:c1], 0.5, 0.0, dst=band)  # (I + moved)·½, exact halving


def _radial_blur_scipy(linear: np.ndarray, zoom: np.ndarray, foe: tuple[float, float]) -> np.ndarray:
    """Without OpenCV: the same recursive doubling at full resolution (``map_coordinates``)."""
    from scipy.ndimage import map_coordinates

    h, w = linear.shape[:2]
    if zoom.shape != (h, w):
        zoom = upsample(zoom, (h, w))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dy, dx = zoom * (np.float32(foe[0] - 0.5) - yy), zoom * (np.float32(foe[1] - 0.5) - xx)
    length = float(np.sqrt(dx * dx + dy * dy).max())
    out = np.array(linear, dtype=np.float32)
    for k in range(1, int(np.clip(math.ceil(math.log2(max(length, 1.0))), 0, MAX_PASSES)) + 1):
        coords = [yy + dy * np.float32(0.5**k), xx + dx * np.float32(0.5**k)]
        for ch in range(out.shape[2]):
            out[..., ch] += map_coordinates(out[..., ch], coords, order=1, mode="nearest")
            out[..., ch] *= np.float32(0.5)
    return out


class MotionBlur(DrivingTransform):
    """Ego-motion blur: the scene smears away from the focus of expansion as the car drives.

    A forward-moving camera smears each point outward by r·v·T/Z (the near road most, far
    scene and sky not at all); ``lateral`` is the horizontal smear f·ω·T of a turning
    (yawing) camera.

    Model: pinhole optical flow of a translating / rotating camera integrated over the
    exposure (Longuet-Higgins & Prazdny 1980); distance from the ``depth`` target or the
    flat-road prior.

    Parameters
    ----------
    speed_kmh : float or (low, high)
        Ego speed (km/h) for the radial blur.
    exposure_ms : float or (low, high)
        Exposure time (ms).
    mode : str or list of str
        ``"radial"`` (driving forward) or ``"lateral"`` (turning); a list to draw from.
    yaw_rate_deg_s : float or (low, high)
        Turning rate (deg/s) for the lateral blur (+ = turning right).
    focal_length_px, horizon_row, camera_height_m : float or None
        Camera (None: ``meta`` or 0.9·W, 0.58·H, 1.3 m; ``horizon_row="estimate"``: from
        the lane vanishing point); the focus of expansion is
        (horizon row, image centre).

    Targets: image (RGB; uint8/uint16 sRGB, float linear); others pass unchanged.
    """

    def __init__(
        self,
        speed_kmh: Any = (40.0, 130.0),
        exposure_ms: Any = (5.0, 30.0),
        mode: Any = "radial",
        yaw_rate_deg_s: Any = (-30.0, 30.0),
        focal_length_px: float | None = None,
        horizon_row: float | str | None = None,
        camera_height_m: float | None = None,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.speed_kmh = check_range(speed_kmh, "speed_kmh", low=0.0, high=400.0)
        self.exposure_ms = check_range(exposure_ms, "exposure_ms", low=0.0, high=1000.0)
        modes = [mode] if isinstance(mode, str) else list(mode)
        if not modes or any(m not in MODES for m in modes):
            raise ParameterError(f"mode must be one of {MODES} or a list of them, got {mode!r}")
        self.modes = modes
        self.yaw_rate_deg_s = check_range(yaw_rate_deg_s, "yaw_rate_deg_s", low=-360.0, high=360.0)
        self.camera_args = check_camera_args(focal_length_px, horizon_row, camera_height_m)

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        h, w = sample["image"].shape[:2]
        mode = self.modes[int(rng.integers(len(self.modes)))] if len(self.modes) > 1 else self.modes[0]
        return {
            "mode": mode,
            "speed_kmh": sample_uniform(rng, self.speed_kmh),
            "exposure_ms": sample_uniform(rng, self.exposure_ms),
            "yaw_rate_deg_s": sample_uniform(rng, self.yaw_rate_deg_s),
            "camera": camera_of(sample, self.camera_args),
        }

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        frame, meta = ctx.scene["image"], ctx.meta
        if params["mode"] == "lateral":
            lin = _lateral_blur(radiometry.decode_work(frame, meta, "linear"), params)
            return radiometry.encode(np.ascontiguousarray(lin), image, meta)
        lin = _radial_ego_blur(frame, meta, params, ctx.scene)
        if lin is None:  # nothing moves: the frame through the codec (exact for 8-bit codes)
            lin = radiometry.decode_work(frame, meta, "linear")
        return radiometry.encode(lin, image, meta)


def _lateral_blur(lin: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
    """The horizontal smear f·ω·T of a yawing camera: a box of that length along rows."""
    t = float(params["exposure_ms"]) * 1e-3
    length = abs(params["camera"]["focal_length_px"] * math.radians(float(params["yaw_rate_deg_s"])) * t)
    size = int(round(length))
    cv2 = cv2_module()
    if size >= 2 and cv2 is not None:  # same window and edges as uniform_filter1d
        lin = cv2.blur(lin, (size, 1), borderType=cv2.BORDER_REPLICATE)
    elif size >= 2:
        from scipy.ndimage import uniform_filter1d

        lin = uniform_filter1d(lin, size=size, axis=1, mode="nearest")
    return lin


def _radial_ego_blur(frame: np.ndarray, meta: Any, params: Mapping[str, Any],
                     scene: Mapping[str, Any]) -> np.ndarray | None:
    """The zoom blur of a camera driving forward: each pixel smeared toward the focus of
    expansion by a = v·T/Z (distance from the scene's depth or the flat-road prior), in
    linear light (H×W×3), or None when nothing moves."""
    w = frame.shape[1]
    cam = params["camera"]
    travel = float(params["speed_kmh"]) / 3.6 * (float(params["exposure_ms"]) * 1e-3)  # metres driven
    if travel <= 0:
        return None
    coarse = coarse_scene(scene, cam, grid_px=128)  # zoom is smooth: computed on a coarse grid, upsampled
    dist = coarse["dist"]
    zoom = np.float32(travel) / np.maximum(dist, np.float32(travel * 4 + 0.5))  # a ≤ 0.25 (near road)
    zoom[dist >= SKY_DEPTH_M] = 0.0
    ego = coarse["labels"] == EGO  # the hood / dashboard moves with the camera: it stays sharp
    zoom[ego if ego.shape == zoom.shape else upsample_mask(ego, zoom.shape)] = 0.0
    if not zoom.any():
        return None
    lin = radiometry.decode_work(frame, meta, "linear")
    return radial_blur(lin, zoom, (cam["horizon_row"], w / 2.0))
