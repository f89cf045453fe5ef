"""What a frame's own light says about its sun: is the sky clear, and do the shadows allow a low sun ahead?

``driving.SunGlare`` adds a sun in (or just above) the frame. Two things in the frame can rule
that out:

- a **grey, overcast sky** (blue/red ≤ :data:`.overcast.CLEAR_SKY_BLUE_RED` in linear light,
  :func:`.overcast._sky_is_clear`): the sun is behind the clouds — no disc, no ghosts, at most
  the diffuse veil of a bright cloud deck;
- **cast shadows that do not run towards the camera**. A sun of elevation e ahead of the camera
  throws the shadow of an object of height H a length H/tan e *towards* the camera: at e ≤ 20°
  (the top of a dash-cam's view) a car's shadow (H ≈ 1.5 m) covers the road from its base to
  ≥ 4 m nearer. When the frame shows hard sun shadows (blue shadows on the road, measured by
  :func:`.overcast.estimate_sun`) and the road 1.5–4 m in front of the objects standing on it
  is lit, its sun is high or behind the camera (Finlayson et al. 2002 for the shadow test; the
  projection is the flat-road model of :mod:`.camera`).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from .layout import GROUND, VERTICAL
from .overcast import LUMA, _sky_is_clear, estimate_sun

#: Window of road in front of an object's base (m nearer the camera) that a low sun ahead shades.
FRONT_WINDOW_M = (1.5, 4.0)
#: Bases farther than this (m) are too small on the grid to judge.
MAX_BASE_M = 40.0
#: A base casts towards the camera when this share of its front window is in shadow.
SHADED_SHARE = 0.4
#: The sun is ahead when at least this share of the bases cast towards the camera.
AHEAD_SHARE = 0.25
#: Fewer bases than this: the shadows say nothing.
MIN_BASES = 8


def sky_is_clear(small: np.ndarray, labels: np.ndarray) -> bool | None:
    """True for a clear blue sky, False for a grey / hazy one, None when too little sky is seen
    (``small`` linear hs×ws×3 and ``labels`` on the same grid)."""
    return _sky_is_clear({"small": small, "labels": labels})


def _front_rows(hs: int, f: float, vh: float, cam_h: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per grid row r below the horizon: its flat-road distance Z (m) and the row range [a, b)
    covering the road 1.5–4 m nearer than Z (a = b where that leaves the grid)."""
    rows = np.arange(hs, dtype=np.float64) + 0.5
    below = rows - vh
    z = np.where(below > 0.5, f * cam_h / np.maximum(below, 1e-6), np.inf)

    def row_of(dist: np.ndarray) -> np.ndarray:
        return np.where(dist > 0, vh + f * cam_h / np.maximum(dist, 1e-6) - 0.5, hs)

    a = np.clip(np.ceil(row_of(z - FRONT_WINDOW_M[0])), 0, hs).astype(np.intp)
    b = np.clip(np.floor(row_of(z - FRONT_WINDOW_M[1])) + 1, 0, hs).astype(np.intp)
    return z, a, np.maximum(a, b)


def front_shadow_share(coarse: Mapping[str, Any]) -> tuple[float, int] | None:
    """(share of the objects standing on the road whose front 1.5–4 m of road is in shadow,
    number of such bases), or None when the frame shows no hard sun shadows to judge by.

    ``coarse`` is a :func:`.scene.coarse_scene` dict (small, labels, k, camera)."""
    sun = estimate_sun(coarse)
    if not sun.measured:
        return None
    small, labels, k = coarse["small"], coarse["labels"], float(coarse["k"])
    cam = coarse["camera"]
    hs, ws = labels.shape
    z, a, b = _front_rows(hs, cam["focal_length_px"] / k, cam["horizon_row"] / k, cam["camera_height_m"])
    ground = labels == GROUND
    lit = np.nan_to_num(sun.lit_rows, nan=np.inf)[:, None]
    ratio = (small @ LUMA) / lit
    shade = ground & (ratio > 0.1) & (ratio < 0.6)
    # a base: an object cell with road right below it, near enough to judge, its window on the grid
    base = np.zeros_like(ground)
    base[1:] = (labels[:-1] == VERTICAL) & ground[1:]
    base &= ((z <= MAX_BASE_M) & (b > a))[:, None]
    ri, cj = np.nonzero(base)
    if ri.size < MIN_BASES:
        return None
    s_cum = np.zeros((hs + 1, ws), np.int32)
    g_cum = np.zeros((hs + 1, ws), np.int32)
    np.cumsum(shade, axis=0, out=s_cum[1:])
    np.cumsum(ground, axis=0, out=g_cum[1:])
    shaded = (s_cum[b[ri], cj] - s_cum[a[ri], cj]).astype(np.float64)
    road = (g_cum[b[ri], cj] - g_cum[a[ri], cj]).astype(np.float64)
    judged = road >= 1
    if judged.sum() < MIN_BASES:
        return None
    share = float(np.mean(shaded[judged] / road[judged] >= SHADED_SHARE))
    return share, int(judged.sum())


def sun_ruled_out(coarse: Mapping[str, Any], shadows: bool = True) -> str | None:
    """Why the frame's own light rules out a sun in or just above the frame (one line), or None;
    ``shadows=False`` asks the sky only."""
    clear = sky_is_clear(coarse["small"], coarse["labels"])
    if clear is False:
        return "overcast sky (grey, blue/red ≤ 2.2 in linear light): no sun disc, no ghosts; diffuse veil only"
    front = front_shadow_share(coarse) if shadows else None
    if front is not None and front[0] < AHEAD_SHARE:
        return (f"the frame's sun shadows do not run towards the camera ({front[0]:.0%} of {front[1]} object "
                f"bases): its sun is high or behind the camera; diffuse veil only")
    return None

