"""Cast shadows already in a frame: where they lie, and the sun azimuth they were cast from.

A sunlit drone frame holds the plants' own shadows: dark ground beside every plant, all
on the side away from the sun. Relighting it with a sun from another direction would give
every plant two shadows, so SunAngle keeps the frame's azimuth (and leaves its shadows
alone) when it can measure one. The measure: from the dark ground, the share of pixels that
meet a plant a few pixels away, in each of 36 directions; it peaks toward the sun (written
from that principle for this plugin).
"""

from __future__ import annotations

import math

import numpy as np

#: ground darker than this fraction of the median ground brightness is in shadow (shade keeps
#: 0.15–0.35 of sunlit light, sunlit ground varies by ± 30 %)
DARK_FRACTION = 0.45
#: directions tried (every 10°) and the distances (pixels) from a shadow pixel looked at
DIRECTIONS = 36
STEPS_PX = (2, 4, 8, 16, 32, 64)
#: shadow pixels sampled at most (a fixed, deterministic subsample)
MAX_SAMPLES = 4000
#: the plant share toward the sun must exceed the share away from it by this much to trust the direction
MIN_CONTRAST = 0.15


def ground_shadows(brightness: np.ndarray, veg: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Ground pixels (not plants, inside ``valid``) darker than :data:`DARK_FRACTION` × the median ground."""
    ground = ~veg if valid is None else (~veg & valid)
    if not ground.any():
        return np.zeros(veg.shape, bool)
    sample = brightness[::4, ::4][ground[::4, ::4]]
    level = float(np.median(sample if sample.size >= 64 else brightness[ground]))
    return ground & (brightness < np.float32(DARK_FRACTION * level))


def sun_azimuth_from_shadows(veg: np.ndarray, dark: np.ndarray) -> float | None:
    """Sun azimuth (degrees clockwise from image up) that cast the frame's shadows, or None.

    Seen from a shadow, the plant that casts it lies toward the sun. For each direction θ
    and step k of :data:`STEPS_PX`, P_k(θ) is the share of dark-ground pixels with a plant k
    pixels away along θ; the sun is at the θ* maximising P_k smoothed over ± 10°, for the k
    (about the shadows' length) with the largest contrast P_k(θ*) − P_k(θ* + 180°). None when
    the frame has fewer than 0.5 % plants or dark ground, or when no contrast reaches
    :data:`MIN_CONTRAST` (overcast frames, a sun near the zenith, dark soil everywhere).
    """
    if veg.mean() < 0.005 or dark.mean() < 0.005:
        return None
    h, w = veg.shape
    rows, cols = np.nonzero(dark)
    if rows.size > MAX_SAMPLES:
        keep = np.linspace(0, rows.size - 1, MAX_SAMPLES).astype(np.int64)
        rows, cols = rows[keep], cols[keep]
    angles = np.radians(np.arange(DIRECTIONS) * (360.0 / DIRECTIONS))
    ur, uc = -np.cos(angles)[:, None], np.sin(angles)[:, None]  # unit steps toward each direction
    best_angle, best_contrast = None, MIN_CONTRAST
    for k in STEPS_PX:  # the step that separates best: about the shadows' length
        r = np.clip(np.rint(rows[None, :] + k * ur), 0, h - 1).astype(np.intp)
        c = np.clip(np.rint(cols[None, :] + k * uc), 0, w - 1).astype(np.intp)
        share = veg[r, c].mean(axis=1)
        smooth = share + 0.5 * (np.roll(share, 1) + np.roll(share, -1))
        i = int(np.argmax(smooth))
        contrast = share[i] - share[(i + DIRECTIONS // 2) % DIRECTIONS]
        if contrast >= best_contrast:
            best_angle, best_contrast = 360.0 * i / DIRECTIONS, contrast
    return best_angle


def light_offset(direction_deg: float) -> tuple[float, float]:
    """Unit (drow, dcol) toward ``direction_deg`` clockwise from image up."""
    a = math.radians(direction_deg)
    return (-math.cos(a), math.sin(a))


def frame_brightness(image: np.ndarray, roles: dict, coded: bool, black_level: np.ndarray | None) -> np.ndarray:
    """Linear brightness of the visible bands (blue, green, red; else every band) of an H×W×C frame (float32)."""
    picks = [roles[k] for k in ("blue", "green", "red") if k in roles] or list(range(image.shape[-1]))
    x = image[..., picks].astype(np.float32)
    if black_level is not None:
        x -= black_level[picks]
    np.maximum(x, 0.0, out=x)
    if coded:  # sRGB-coded 8-bit: decode (the exact curve does not matter for a threshold)
        x = (x / np.float32(255.0)) ** np.float32(2.2)
    return x.sum(axis=-1)


def frame_sun_azimuth(image: np.ndarray, sample, roles: dict, coded: bool, black_level: np.ndarray | None,
                      valid: np.ndarray | None) -> float | None:
    """:func:`sun_azimuth_from_shadows` of a frame (``sample``: its meta names the bands), measured on a
    ≤ 640 px subsample (1 in s rows and columns; plants by :func:`vegetation.vegetation_mask` there)."""
    from .vegetation import vegetation_mask

    s = max(1, int(math.ceil(max(image.shape[:2]) / 640)))
    sub = np.ascontiguousarray(image[::s, ::s])
    fp = None if valid is None else valid[::s, ::s]
    meta = dict(sample.get("meta") or {}, spatial_ndim=2)
    v = vegetation_mask(sub, meta, valid=fp)
    dark = ground_shadows(frame_brightness(sub, roles, coded, black_level), v, fp)
    return sun_azimuth_from_shadows(v, dark)
