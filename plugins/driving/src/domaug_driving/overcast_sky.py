"""The CIE standard overcast sky for :func:`.overcast.overcast_factors`: sky pixels (and the clear sky
seen through canopy gaps) blended towards ``L(θ) ∝ 1 + 2 sin θ`` at the frame's own sky level."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.kit import cv2_module

from .layout import SKY
from .plane_ops import upsample
from .scratch import buffer
from .sun_estimate import CLEAR_SKY_BLUE_RED, LUMA, _sky_cells, luma


def _luma_rows(half: list[np.ndarray], rows: tuple[int, int], out: np.ndarray) -> np.ndarray:
    """Linear luminance of rows ``rows`` of the three planes ``half``, in ``out`` (two ``cv2.addWeighted`` passes)."""
    r0, r1 = rows
    cv2 = cv2_module()
    if cv2 is not None and out.size and out.shape[1] < 2**20:
        cv2.addWeighted(half[0][r0:r1], float(LUMA[0]), half[1][r0:r1], float(LUMA[1]), 0.0, dst=out)
        cv2.scaleAdd(half[2][r0:r1], float(LUMA[2]), out, dst=out)
        return out
    np.multiply(half[0][r0:r1], LUMA[0], out=out)
    out += half[1][r0:r1] * LUMA[1]
    out += half[2][r0:r1] * LUMA[2]
    return out


def _sky_bottom(coarse: Mapping[str, Any], h2: int) -> int:
    """The half-size row below the lowest sky cell (and one more cell)."""
    rows_c = np.nonzero((coarse["labels"] == SKY).any(axis=1))[0]
    if not len(rows_c):
        return 0
    return min(h2, int(np.ceil((rows_c[-1] + 2) * h2 / coarse["labels"].shape[0])))


def _overcast_sky(factors: list[np.ndarray], half: list[np.ndarray], shape: tuple[int, int],
                  coarse: Mapping[str, Any], *, strength: float, exposure: float,
                  sky_w: np.ndarray | None = None) -> None:
    """Blend the factors of sky pixels towards the CIE standard overcast sky, ``L(θ) ∝ 1 + 2 sin θ``
    above the horizon (θ the elevation of the pixel's ray), at the frame's own mean sky
    luminance × ``exposure``; clouds keep their relative structure (square-root compressed);
    the colour is a neutral grey with a quarter of the original sky's tint (the camera's
    white balance). Dark pixels inside the sky mask (branches, wires) keep their factor. ``sky_w``: the
    sky mask at the size of ``half`` (bilinear), when the caller has it."""
    sky_c = coarse["labels"] == SKY
    sky_px = _sky_cells(coarse, 4)
    if sky_px is None:
        return
    h, w = shape
    h2, w2 = half[0].shape
    colour = np.median(sky_px, axis=0)
    tint = (0.75 + 0.25 * colour / max(float(colour.mean()), 1e-6)).astype(np.float32)
    camera = coarse.get("camera") or {}
    horizon = float(camera.get("horizon_row", _horizon_of(coarse, h)))
    focal = float(camera.get("focal_length_px", 0.9 * w))
    bottom = _sky_bottom(coarse, h2)
    rows_full = (np.arange(bottom, dtype=np.float32) + 0.5) * (h / h2)
    shape_rows = 1.0 + 2.0 * np.sin(np.arctan(np.maximum(horizon - rows_full, 0.0) / focal))
    per_row = sky_c.sum(axis=1)  # the CIE shape's mean over the sky cells, row by row
    rows_sky = (np.arange(sky_c.shape[0]) + 0.5) * (h / sky_c.shape[0])
    shape_sky = 1.0 + 2.0 * np.sin(np.arctan(np.maximum(horizon - rows_sky, 0.0) / focal))
    mean_shape = float(per_row @ shape_sky) / float(per_row.sum())
    level = float(np.mean(luma(sky_px))) * exposure / mean_shape  # the sky's mean luminance kept
    radiance_rows = (level * shape_rows).astype(np.float32)[:, None]
    if sky_w is None:
        sky_w = upsample(sky_c.view(np.uint8), (h2, w2), out=buffer("overcast_sky_w", (h2, w2)))
    alpha, rel = _sky_alpha(half, sky_w, colour, bottom, int(np.clip(np.floor(horizon * h2 / h), 0, bottom)))
    alpha *= np.float32(strength)
    target = np.maximum(rel, np.float32(0.0), out=rel)  # radiance_rows·√rel, then ·alpha
    np.sqrt(target, out=target)
    target *= radiance_rows
    target *= alpha
    keep = np.subtract(np.float32(1.0), alpha, out=alpha)  # f ← f·(1 − alpha) + alpha·tint·target / half
    wanted = buffer("overcast_wanted", keep.shape)
    cv2 = cv2_module() if wanted.size and w2 < 2**20 else None
    for c in range(3):
        f = factors[c][:bottom]
        np.maximum(half[c][:bottom], np.float32(1e-4), out=wanted)
        if cv2 is not None:
            cv2.divide(target, wanted, dst=wanted, scale=float(tint[c]))
        else:
            np.divide(target, wanted, out=wanted)
            wanted *= tint[c]
        f *= keep
        f += wanted


def _sky_alpha(half: list[np.ndarray], sky_w: np.ndarray, colour: np.ndarray, bottom: int,
               rows_above: int) -> tuple[np.ndarray, np.ndarray]:
    """How far each pixel of the first ``bottom`` half-size rows turns to the overcast sky (0…1:
    the sky mask ``sky_w``, 0 for pixels under 0.35–0.65 of the sky's luminance, which are objects,
    raised through canopy gaps in the ``rows_above`` the horizon) and its luminance relative to the
    sky's (``colour``); both in this thread's scratch buffers."""
    band = (bottom, sky_w.shape[1])
    y = _luma_rows(half, (0, bottom), buffer("overcast_sky_y", band))
    rel = np.multiply(y, np.float32(1.0 / max(float(colour @ LUMA), 1e-6)), out=buffer("overcast_rel", band))
    alpha = buffer("overcast_alpha", band)
    np.copyto(alpha, sky_w[:bottom])
    gate = np.multiply(rel, np.float32(1.0 / 0.3), out=buffer("overcast_gate", band))
    gate -= np.float32(0.35 / 0.3)
    np.clip(gate, np.float32(0.0), np.float32(1.0), out=gate)
    alpha *= gate  # dark pixels in the mask are objects
    _sky_through_gaps(alpha, half, colour, y, rows_above)
    return alpha, rel


def sky_gaps(red: np.ndarray, blue: np.ndarray, y: np.ndarray, sky_colour: np.ndarray) -> np.ndarray | None:
    """0–1 likeness of pixels to a clear sky of linear colour ``sky_colour`` (3,) — for the sky
    seen through gaps in a canopy or between branches, finer than the layout's sky mask:
    blue/red ≥ 0.45–0.65 of the sky's (the clear sky whitens towards the horizon; foliage,
    bark and sunlit walls stay at or below 1, far under a clear sky's 2.5–3) and luminance
    ``y`` ≥ 0.45–0.65 of the sky's. None when the sky is not clear (a grey sky's colour is
    shared by walls and roofs)."""
    if sky_colour[2] <= CLEAR_SKY_BLUE_RED * max(float(sky_colour[0]), 1e-6):
        return None
    like = blue / np.maximum(red, np.float32(1e-4))
    like *= np.float32(sky_colour[0] / sky_colour[2])
    like -= np.float32(0.45)
    like *= np.float32(5.0)
    np.clip(like, 0.0, 1.0, out=like)
    like *= np.clip((y / np.float32(max(float(sky_colour @ LUMA), 1e-6)) - 0.45) / 0.2, 0.0, 1.0)
    return like


def _sky_through_gaps(alpha: np.ndarray, half: list[np.ndarray], colour: np.ndarray, y: np.ndarray,
                      rows: int) -> None:
    """In place: ``alpha`` raised where the first ``rows`` (above the horizon) look like the
    clear sky (:func:`sky_gaps`): the sky through a canopy is turned grey too."""
    if rows <= 0:
        return
    like = sky_gaps(half[0][:rows], half[2][:rows], y[:rows], colour)
    if like is not None:
        np.maximum(alpha[:rows], like, out=alpha[:rows])


def _horizon_of(coarse: Mapping[str, Any], h: int) -> float:
    """The horizon row of the frame: the lowest coarse row with sky, a fallback only (callers
    should put the camera's ``horizon_row`` in the coarse dict)."""
    rows = np.nonzero((coarse["labels"] == SKY).any(axis=1))[0]
    return float((rows[-1] + 1) * coarse["k"]) if len(rows) else 0.58 * h
