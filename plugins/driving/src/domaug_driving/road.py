"""Pure kernels for the road: a wet road (darker asphalt, Fresnel-weighted mirror image), road-plane textures."""

from __future__ import annotations

import numpy as np


def schlick_fresnel(cos_theta: np.ndarray, r0: float = 0.02) -> np.ndarray:
    """Reflectance R = R0 + (1 − R0)(1 − cos θ)^5 (Schlick 1994; R0 = 0.02 for water)."""
    return r0 + (1.0 - r0) * (1.0 - cos_theta) ** 5


class WetRoad:
    """A wet road below the horizon, for linear images in planes (one plane at a time).

    - darkening: albedo × keep, keep = 1 − 0.4·wetness (Lekner & Dorf, Appl. Opt. 1988:
      wet surfaces are 20–50 % darker);
    - reflection: for a flat road the mirror image of a far object lies symmetric about
      the horizon, so row ``y`` reflects row ``2·v_h − y``; it is blurred vertically (rough
      asphalt: a box of 4 % of H, computed on every 4th row and repeated) and weighted by
      Schlick's Fresnel term at the grazing angle of that road row (≈ 0.25 at 5 m, 0.7 at
      20 m for a camera 1.3 m high) × wetness × ``puddles`` (0–1).

    ``puddles`` covers the road rows only ((H − y0)×W, y0 = ⌈horizon_row⌉); ``exclude``
    (H×W bool, e.g. labelled boxes) keeps objects dry-looking. :meth:`apply` turns road
    rows ``y0:`` of a plane into ``plane·keep + mirror·weight`` in place, the mirror taken
    from that plane before darkening (so planes stay independent).
    """

    def __init__(self, h: int, w: int, *, horizon_row: float, focal_length_px: float, camera_height_m: float,
                 wetness: float, puddles: np.ndarray | None = None, exclude: np.ndarray | None = None) -> None:
        self.h, self.w = h, w
        self.horizon_row = float(horizon_row)
        y0 = int(np.clip(np.ceil(horizon_row), 0, h))
        self.y0 = y0
        if y0 >= h or wetness <= 0:
            self.weight = None
            return
        rows = np.arange(y0, h, dtype=np.float64) + 0.5
        self.src = np.clip(np.rint(2.0 * horizon_row - rows).astype(np.intp), 0, h - 1)
        z = focal_length_px * camera_height_m / np.maximum(rows - horizon_row, 1e-3)
        cos_theta = camera_height_m / np.hypot(camera_height_m, z)
        fres = (wetness * schlick_fresnel(cos_theta)).astype(np.float32)[:, None]
        if puddles is not None:
            self.weight = np.multiply(puddles, fres, dtype=np.float32)
        else:
            self.weight = np.broadcast_to(fres, (h - y0, w)).copy()
        self.keep: float | np.ndarray = np.float32(1.0 - 0.4 * wetness)
        if exclude is not None and exclude[y0:].any():
            ex = exclude[y0:]
            self.weight[ex] = 0.0
            self.keep = np.where(ex, np.float32(1.0), self.keep).astype(np.float32)

    def apply(self, plane: np.ndarray) -> np.ndarray:
        """Wet the road rows of ``plane`` (H×W float32 linear) in place."""
        from scipy.ndimage import uniform_filter1d

        from domaug.ops.opencv import cv2_module

        if self.weight is None:
            return plane
        h, w, y0 = self.h, self.w, self.y0
        step = 4  # the mirror image on every 4th row, blurred vertically (rough asphalt) and repeated
        size = max(3, int(0.04 * h / step) | 1)
        coarse = np.ascontiguousarray(plane[self.src[::step]])  # taken before darkening
        cv2 = cv2_module()
        if cv2 is not None and coarse.shape[0] and w:  # same window and edges as uniform_filter1d
            coarse = cv2.blur(coarse, (1, size), borderType=cv2.BORDER_REPLICATE)
        else:
            coarse = uniform_filter1d(coarse, size=size, axis=0, mode="nearest")
        mirror = repeat_rows_cols(coarse, step, 1)[: h - y0]
        mirror *= self.weight
        road = plane[y0:]
        road *= self.keep
        road += mirror
        return plane


def box_mask(shape: tuple[int, int], bboxes: np.ndarray | None) -> np.ndarray | None:
    """Boolean H×W mask of the union of xyxy boxes (None when there are none)."""
    if bboxes is None or not len(bboxes):
        return None
    h, w = shape
    m = np.zeros(shape, dtype=bool)
    for x0, y0, x1, y1 in np.asarray(bboxes, dtype=np.float64)[:, :4]:
        m[int(np.clip(np.floor(y0), 0, h)) : int(np.clip(np.ceil(y1), 0, h)),
          int(np.clip(np.floor(x0), 0, w)) : int(np.clip(np.ceil(x1), 0, w))] = True
    return m


def road_texture(
    shape: tuple[int, int], camera, seed: int, patch_cells: float = 8.0, grid: int = 256
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A noise texture laid *on the road plane*, seen through the camera (half resolution).

    Each road pixel (every 2nd row and column below the horizon) is mapped to the ground
    point (X, Z) = ((u − c_x)·Z/f, f·h/(v − v_h)) and looks up, bilinearly, a zero-mean
    unit-std value-noise field with 0.16 m × 0.32 m cells (X ±20 m, Z 0–80 m; features of
    ``patch_cells`` cells, i.e. ≈ 1.3 m × 2.6 m by default), so patches shrink
    and flatten with distance like real ones. ``grid`` < 256 evaluates the noise on a
    coarser lattice of the same ground area (cells 256/grid times larger, features the same
    size in metres: ``patch_cells`` is given in 256-grid cells), which is cheaper. Returns (Z per row, X per pixel, texture),
    shapes (r,), (r, c), (r, c) with r = ⌈(H − y0)/2⌉, c = ⌈W/2⌉, y0 = first road row.
    """
    from .fields import value_noise

    h, w = shape
    f, vh, ch = camera["focal_length_px"], camera["horizon_row"], camera["camera_height_m"]
    y0 = int(np.clip(np.ceil(vh + 0.5), 0, h))
    rows = np.arange(y0, h, 2, dtype=np.float32) + 1.0 - vh
    z = f * ch / rows
    x_over_z = (np.arange(0, w, 2, dtype=np.float32) + 1.0 - w / 2.0) / f
    x = z[:, None] * x_over_z[None, :]
    g = int(grid)
    field = value_noise((g, g), seed=seed, scale_px=patch_cells * g / 256.0, octaves=3)
    fz = np.clip(z * (g / 80.0), 0, g - 1.001).astype(np.float32)[:, None]
    fx = np.clip((x + 20.0) * (g / 40.0), 0, g - 1.001).astype(np.float32)
    from domaug.ops.opencv import cv2_module

    cv2 = cv2_module()
    if cv2 is not None and x.size and x.shape[1] < 32768:  # bilinear lookup (weights in 1/32 px steps)
        map_z = np.ascontiguousarray(np.broadcast_to(fz, fx.shape))
        tex = cv2.remap(np.ascontiguousarray(field, dtype=np.float32), fx, map_z, cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REPLICATE)
        return z, x, tex
    field = field.ravel()
    iz, ix = fz.astype(np.int32), fx.astype(np.int32)
    az, ax = fz - iz, fx - ix
    base = iz * g + ix
    top = field[base] * (1 - ax) + field[base + 1] * ax
    bottom = field[base + g] * (1 - ax) + field[base + g + 1] * ax
    return z, x, (top * (1 - az) + bottom * az).astype(np.float32)


def upsample2(half: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Repeat a half-resolution map ×2 on both axes and crop to rows × cols."""
    return repeat_rows_cols(half, 2, 2)[:rows, :cols]


def repeat_rows_cols(a: np.ndarray, fy: int, fx: int) -> np.ndarray:
    """``a`` (2-D, or 3-D with ≤ 4 channels) with every row repeated ``fy`` times and every
    column ``fx`` times; ``cv2.resize`` nearest (exact for integer factors) or numpy."""
    from domaug.ops.opencv import cv2_module

    cv2 = cv2_module()
    if (cv2 is not None and a.size and a.dtype == np.float32 and a.ndim in (2, 3) and (a.ndim == 2 or a.shape[2] <= 4)
            and a.shape[0] * fy < 32768 and a.shape[1] * fx < 32768):
        return cv2.resize(np.ascontiguousarray(a), (a.shape[1] * fx, a.shape[0] * fy), interpolation=cv2.INTER_NEAREST)
    return np.repeat(np.repeat(a, fy, axis=0), fx, axis=1)
