"""Where the sun is in a dash-cam frame: angles ↔ pixels, and a sun that only shines from the sky.

A level pinhole camera with focal length f (px), the horizon at row v_h and the optical axis
at column c_x = W/2 sees a direction of elevation e and azimuth a (relative to the heading,
positive to the right) at

    col = c_x + f·tan a,        row = v_h − f·tan e / cos a

(the direction (cos e·sin a, sin e, cos e·cos a) projected on the image plane). A sun behind
the camera (|a| ≥ 90°) has no image. :func:`place_sun` puts the sun where it can be seen: on
a sky pixel of the scene layout (:func:`.scene.coarse_scene` labels, eroded so the disc
and its corona are clear of trees and buildings), or above the top of the frame — never on
a tree, a vertical object or the ground.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from domaug.kit import ParameterError, cv2_module

from .layout import SKY

#: Angular radius of the sun's disc (deg).
SUN_RADIUS_DEG = 0.267


def relative_azimuth(azimuth_deg: float, heading_deg: float) -> float:
    """Compass azimuth of the sun relative to the camera heading, in (−180, 180] (deg, + = right)."""
    rel = (azimuth_deg - heading_deg) % 360.0
    return rel - 360.0 if rel > 180.0 else rel


def sun_pixel(elevation_deg: float, azimuth_deg: float, camera: Mapping[str, float], width: int) -> tuple[float, float]:
    """Image (row, col) of a direction (elevation, azimuth relative to the heading; |az| < 90°)."""
    f = camera["focal_length_px"]
    a = math.radians(azimuth_deg)
    col = width / 2.0 + f * math.tan(a)
    row = camera["horizon_row"] - f * math.tan(math.radians(elevation_deg)) / math.cos(a)
    return row, col


def pixel_angles(row: float, col: float, camera: Mapping[str, float], width: int) -> tuple[float, float]:
    """(elevation, relative azimuth) in degrees of the direction seen at image (row, col)."""
    f = camera["focal_length_px"]
    a = math.atan2(col - width / 2.0, f)
    e = math.atan2((camera["horizon_row"] - row) * math.cos(a), f)
    return math.degrees(e), math.degrees(a)


def _clear_sky(labels: np.ndarray, margin_cells: int) -> np.ndarray:
    """Sky cells at least ``margin_cells`` from anything that is not sky (outside the frame counts as sky)."""
    sky = labels == SKY
    if margin_cells <= 0 or not sky.any():
        return sky
    r = margin_cells
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    disk = (yy * yy + xx * xx <= r * r).astype(np.uint8)
    padded = np.pad(sky, ((r, 0), (r, r)), constant_values=True).view(np.uint8)  # the sky goes on above and beside
    cv2 = cv2_module()
    if cv2 is not None:
        eroded = cv2.erode(padded, disk, borderType=cv2.BORDER_CONSTANT, borderValue=1).view(bool)
    else:
        from scipy.ndimage import binary_erosion

        eroded = binary_erosion(padded.view(bool), disk.astype(bool), border_value=1)
    return eroded[r:, r : r + sky.shape[1]]


def _above_top(rng: np.random.Generator, elevation_deg: float, col: float, camera: Mapping[str, float],
               width: int) -> tuple[float, float]:
    """(elevation, row) of a sun above the frame top in column ``col``: the drawn elevation when it
    is already out of the top, else 1–5° above the top edge."""
    top_el, _ = pixel_angles(0.0, col, camera, width)
    if elevation_deg <= top_el:
        elevation_deg = top_el + float(rng.uniform(1.0, 5.0))
    a = math.atan2(col - width / 2.0, camera["focal_length_px"])
    return elevation_deg, sun_pixel(elevation_deg, math.degrees(a), camera, width)[0]


def _cells_in_range(clear: np.ndarray, k: int, camera: Mapping[str, float], width: int,
                    el_range: tuple[float, float]) -> np.ndarray:
    """Clear-sky cells whose centre's elevation lies in ``el_range`` give or take half a cell
    (bool, grid of ``clear``)."""
    hs, ws = clear.shape
    f = camera["focal_length_px"]
    tol = math.degrees(math.atan(k / 2.0 / f))
    rows = (np.arange(hs) * k + k / 2.0)[:, None]
    a = np.arctan2((np.arange(ws) * k + k / 2.0) - width / 2.0, f)[None, :]
    el = np.degrees(np.arctan2((camera["horizon_row"] - rows) * np.cos(a), f))
    return clear & (el >= el_range[0] - tol) & (el <= el_range[1] + tol)


def place_sun(rng: np.random.Generator, labels: np.ndarray, k: int, camera: Mapping[str, float],
              shape: tuple[int, int], el_range: tuple[float, float], azimuth_deg: float | None) -> dict:
    """The sun's image position: on clear sky or above the frame top.

    ``labels`` is the coarse layout (pixel (i, j) ↔ full (k·i + k//2, k·j + k//2)), ``el_range``
    the allowed elevations (deg), ``azimuth_deg`` the azimuth relative to the heading or None
    (then any clear-sky cell in the elevation range, uniformly). Returns row, col, elevation_deg,
    azimuth_deg (relative) and in_frame.
    """
    disc = camera["focal_length_px"] * math.tan(math.radians(SUN_RADIUS_DEG))
    clear = _clear_sky(labels, int(math.ceil(3.0 * disc / k)))
    el = float(rng.uniform(*el_range))
    if azimuth_deg is not None:
        return _at_azimuth(rng, clear, k, camera, shape, el_range, el, azimuth_deg)
    h, w = shape
    cells = np.flatnonzero(_cells_in_range(clear, k, camera, w, el_range))
    if cells.size:
        i, j = np.unravel_index(int(cells[rng.integers(cells.size)]), clear.shape)
        row, col = (i + rng.uniform(0.0, 1.0)) * k, (j + rng.uniform(0.0, 1.0)) * k
        return _result(float(row), float(col), None, camera, w, h)
    col = float(rng.uniform(0.0, w))
    el, row = _above_top(rng, el, col, camera, w)
    return _result(row, col, el, camera, w, h)


def _at_azimuth(rng: np.random.Generator, clear: np.ndarray, k: int, camera: Mapping[str, float],
                shape: tuple[int, int], el_range: tuple[float, float], el: float, azimuth_deg: float) -> dict:
    """:func:`place_sun` for a given azimuth: as drawn when that is out of frame or clear sky, else
    the nearest clear-sky row of its column within the elevation range, else above the frame top."""
    h, w = shape
    if abs(azimuth_deg) >= 90.0:
        raise ParameterError(f"SunGlare: the sun at {azimuth_deg:.1f}° from the camera heading is behind "
                             "the camera; give sun_azimuth_deg within ±90° of meta['heading_deg']")
    row, col = sun_pixel(el, azimuth_deg, camera, w)
    if not 0.0 <= col < w or row < 0:  # out of frame at the side or above
        return _result(row, col, el, camera, w, h)
    i, j = int(row // k), min(int(col // k), clear.shape[1] - 1)
    if i < clear.shape[0] and clear[i, j]:
        return _result(row, col, el, camera, w, h)
    cand = _cells_in_range(clear, k, camera, w, el_range)[:, j]
    if cand.any():
        rows = np.nonzero(cand)[0] * k + k / 2.0
        row = float(rows[np.argmin(np.abs(rows - row))] + rng.uniform(-k / 2.0, k / 2.0))
        return _result(row, col, None, camera, w, h)
    el, row = _above_top(rng, el, col, camera, w)
    return _result(row, col, el, camera, w, h)


def _result(row: float, col: float, el: float | None, camera: Mapping[str, Any], w: int, h: int) -> dict:
    e, a = pixel_angles(row, col, camera, w)
    return {"row": float(row), "col": float(col), "elevation_deg": float(e if el is None else el),
            "azimuth_deg": float(a), "in_frame": bool(0.0 <= row < h and 0.0 <= col < w)}
