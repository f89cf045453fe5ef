"""Overcast light from a sunlit frame: sun shadows lifted, direct sun removed, a grey overcast sky.

Rain, snow and night all happen without direct sun, but the frames users have were mostly
filmed in sunshine. In linear light a sunlit surface reflects

    I_c = ρ_c · (E_sun,c · S + E_sky,c)

(albedo ρ, direct sun irradiance E_sun with its visibility S: 1 lit, 0 in a cast shadow,
diffuse skylight E_sky). The road is one material, so its sun-shadow / sunlit ratio per
channel, ``r0_c = E_sky,c / (E_sun,c + E_sky,c)``, is measured on the frame itself: road
pixels well below their row's lit level that are also *bluer* (shadows are lit by the blue
sky only; Finlayson, Hordley & Drew, ECCV 2002) against road pixels at that level. A grey or
hazy sky (blue/red ≤ :data:`CLEAR_SKY_BLUE_RED` in linear light) means the frame is overcast
already and nothing changes; a clear sky without measurable shadows gets the typical r0 of a
clear day.

- :func:`remove_sun` divides the sun out: ``I_c · r0_c / (r0_c + (1 − r0_c)·S)`` brings
  sunlit ground down to the diffuse level of its shadows (an albedo proxy × skylight). ``S``
  is measured per pixel on the ground (at half resolution: a sun shadow's penumbra is a few
  pixels wide); vertical objects and the ego vehicle, whose albedo and facing cannot be told
  apart from one frame, are taken as :data:`VERTICAL_SUNLIT` sunlit on average. The sky is left alone.
- :func:`to_overcast` then exposes the scene for an overcast day — the ground keeps
  ``1 − share/2`` of its sunlit level (a dash-cam's metering brightens a dull scene only in
  part), its shadows disappear — and turns the sky into the CIE standard overcast sky
  (Moon & Spencer 1942; CIE S 011/E:2003 type 1, ``L(θ) = L_z (1 + 2 sin θ) / 3``): grey,
  brighter with elevation, keeping the relative structure of the clouds that were there.

Both work in place on the three linear float32 H×W planes of
:func:`.radiometry.decode_planes` with a :func:`.scene.coarse_scene` dict.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.kit import cv2_module

from .layout import GROUND, SKY
from .overcast_sky import (  # noqa: F401  (the overcast sky's names live on in this module)
    _horizon_of,
    _luma_rows,
    _overcast_sky,
    _sky_alpha,
    _sky_bottom,
    _sky_through_gaps,
    sky_gaps,
)
from .plane_ops import upsample
from .scratch import buffer
from .sun_estimate import (  # noqa: F401  (the sun estimate's names live on in this module)
    CLEAR_DAY_R0,
    CLEAR_SKY_BLUE_RED,
    LUMA,
    SKY_SAMPLES,
    SunLight,
    _lit_rows,
    _sky_cells,
    _sky_is_clear,
    estimate_sun,
    luma,
)

__all__ = ["CLEAR_DAY_R0", "CLEAR_SKY_BLUE_RED", "LUMA", "SKY_SAMPLES", "VERTICAL_SUNLIT", "SunLight", "_horizon_of",
           "_lit_rows", "_luma_rows", "_overcast_sky", "_sky_alpha", "_sky_bottom", "_sky_cells", "_sky_is_clear",
           "_sky_through_gaps", "apply_factors", "estimate_sun", "luma", "overcast_factors", "remove_sun",
           "sky_gaps", "to_overcast"]

#: Vertical objects: taken as sunlit on this fraction of their visible surface (their facing is
#: unknown; a forward camera mostly sees the sunlit faces of roadside objects in daytime).
VERTICAL_SUNLIT = 0.65


def _half(plane: np.ndarray, shape: tuple[int, int], name: str, rows: tuple[int, int] | None = None) -> np.ndarray:
    """``plane`` averaged over 2×2 blocks (``shape`` = its half size, rounded up); only the half rows
    ``rows`` = (first, end) when given and the plane's size is even (the other rows: arbitrary)."""
    out = buffer(name, shape)
    h, w = plane.shape
    if rows is not None and h % 2 == 0 and w % 2 == 0 and rows[1] > rows[0]:  # 2×2 blocks: rows independent
        a, b = rows
        plane, dst = plane[2 * a : 2 * b], out[a:b]
    elif rows is not None and rows[1] <= rows[0]:
        return out
    else:
        dst = out
    cv2 = cv2_module()
    if cv2 is not None and plane.shape[1] < 2**20 and plane.strides[-1] == 4:
        cv2.resize(plane, (dst.shape[1], dst.shape[0]), dst=dst, interpolation=cv2.INTER_AREA)
    else:
        np.copyto(dst, plane[::2, ::2])
    return out


def _sunlit(half: list[np.ndarray], full_h: int, coarse: Mapping[str, Any], sun: SunLight) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel sun visibility S on the half-resolution planes (1 sunlit … 0 in shadow) and the
    sky weight there (0…1). Ground pixels are measured against their row's sunlit road; the
    others are :data:`VERTICAL_SUNLIT`."""
    h2, w2 = half[0].shape
    labels = coarse["labels"]
    sky_w = upsample((labels == SKY).view(np.uint8), (h2, w2), out=buffer("overcast_sky_w", (h2, w2)))
    s = buffer("overcast_sunlit", (h2, w2))
    s.fill(VERTICAL_SUNLIT)
    lit_rows = sun.lit_rows
    if sun.share > 0.0 and np.isfinite(lit_rows).any():
        hs = len(lit_rows)
        rows_c = np.clip(((np.arange(h2) + 0.5) * hs / h2).astype(np.intp), 0, hs - 1)
        ref = lit_rows[rows_c]
        band = np.nonzero(np.isfinite(ref))[0]
        r0, r1 = int(band[0]), int(band[-1]) + 1
        ground_w = upsample((labels == GROUND).view(np.uint8), (h2, w2), out=buffer("overcast_ground_w", (h2, w2)))
        lo = float(sun.r0 @ LUMA) + 0.08  # umbra (with some margin) … the darkest sunlit asphalt: tyre
        hi = max(0.72, lo + 0.08)  # tracks and patches at 0.75–0.85 of their row's lit level stay sunlit
        # S = clip((y / ref − lo) / (hi − lo)), then s = V + ground_w·(S − V): in place, one row scale
        g = _luma_rows(half, (r0, r1), s[r0:r1])
        g *= (1.0 / ((hi - lo) * ref[r0:r1, None])).astype(np.float32)
        g -= np.float32(lo / (hi - lo) + VERTICAL_SUNLIT)
        np.clip(g, np.float32(-VERTICAL_SUNLIT), np.float32(1.0 - VERTICAL_SUNLIT), out=g)
        g *= ground_w[r0:r1]
        g += np.float32(VERTICAL_SUNLIT)
    return s, sky_w


def _relight_factors(sun: SunLight, s: np.ndarray, sky_w: np.ndarray, gain: float) -> list[np.ndarray]:
    """Per channel ``gain · r0_c / (r0_c + (1 − r0_c)·S)`` off the sky, 1 on it."""
    out = []
    clear = np.subtract(np.float32(1.0), sky_w, out=buffer("overcast_clear", s.shape))
    cv2 = cv2_module() if s.size and s.shape[1] < 2**20 else None
    for c in range(3):  # in place, in this thread's scratch: no temporaries
        f = buffer(f"overcast_factor{c}", s.shape)
        r0c = float(sun.r0[c])
        if cv2 is not None:  # one pass each: r0 + (1 − r0)·S, then gain·r0 / that
            cv2.addWeighted(s, 1.0 - r0c, s, 0.0, r0c, dst=f)
            cv2.divide(r0c * float(gain), f, dst=f)
        else:
            np.multiply(s, np.float32(1.0 - r0c), out=f)
            f += np.float32(r0c)
            np.divide(np.float32(r0c * gain), f, out=f)
        f *= clear  # f·(1 − sky) + sky
        f += sky_w
        out.append(f)
    return out


def apply_factors(planes: list[np.ndarray], factors: list[np.ndarray]) -> None:
    """In place: ``planes[c] *= factors[c]``, the half-resolution factors upsampled bilinearly."""
    h, w = planes[0].shape
    full = buffer("overcast_factor", (h, w))
    cv2 = cv2_module()
    for plane, f in zip(planes, factors):
        upsample(f, (h, w), out=full)
        if cv2 is not None and plane.flags.c_contiguous and plane.shape[1] < 2**20:
            cv2.multiply(plane, full, dst=plane)
        else:
            np.multiply(plane, full, out=plane)


def _halves(planes: list[np.ndarray], rows: tuple[int, int] | None = None) -> list[np.ndarray]:
    """The planes at half size (:func:`_half`; only the half rows ``rows`` when given)."""
    h, w = planes[0].shape
    shape = ((h + 1) // 2, (w + 1) // 2)
    return [_half(p, shape, f"overcast_half{c}", rows) for c, p in enumerate(planes)]


def _rows_needed(coarse: Mapping[str, Any], sun: SunLight, h2: int, sky: bool) -> tuple[int, int]:
    """The half-size rows the factors read: the ground's (from the first row with a sunlit road
    level down, when the sun shines) and, when ``sky``, the sky's (down to :func:`_sky_bottom`)."""
    lo, hi = h2, 0
    if sun.share > 0.0 and np.isfinite(sun.lit_rows).any():
        hs = len(sun.lit_rows)
        lo, hi = int(np.argmax(np.isfinite(sun.lit_rows))) * h2 // hs, h2  # (cells → half rows, rounded down)
    if sky:
        lo, hi = 0, max(hi, _sky_bottom(coarse, h2))
    return lo, hi


def remove_sun(planes: list[np.ndarray], coarse: Mapping[str, Any]) -> float:
    """In place: divide the direct sun out of the frame (sun shadows lifted, sunlit surfaces
    down to their diffuse level, the sky untouched). Returns the direct sun's estimated share
    of the illumination (0 when the frame is overcast already: then nothing changes)."""
    sun = estimate_sun(coarse)
    if sun.share > 0.0:
        half = _halves(planes, _rows_needed(coarse, sun, (planes[0].shape[0] + 1) // 2, False))
        s, sky_w = _sunlit(half, planes[0].shape[0], coarse, sun)
        apply_factors(planes, _relight_factors(sun, s, sky_w, 1.0))
    return sun.share


def to_overcast(planes: list[np.ndarray], coarse: Mapping[str, Any], *, exposure: float = 1.0,
                sky_grey: float = 1.0) -> float:
    """In place: the frame under an overcast sky, exposed by ``exposure`` (1 = as a dash-cam
    meters it; < 1 darker, e.g. under rain clouds). ``sky_grey`` (0…1) is how far the sky
    turns to the CIE overcast sky. Returns the removed direct-sun share (see :func:`remove_sun`).
    """
    factors, share = overcast_factors(planes, coarse, exposure=exposure, sky_grey=sky_grey)
    if factors is not None:
        apply_factors(planes, factors)
    return share


def overcast_factors(planes: list[np.ndarray], coarse: Mapping[str, Any], *, exposure: float = 1.0,
                     sky_grey: float = 1.0) -> tuple[list[np.ndarray] | None, float]:
    """What :func:`to_overcast` multiplies the planes by, without applying it: three float32
    factor fields at half resolution (((H+1)//2)×((W+1)//2), this thread's scratch buffers:
    valid, and free to overwrite, until the next call; None when nothing changes) and the
    direct-sun share. A transform with its own per-pixel pass (e.g. Koschmieder's
    ``I·t + A·(1 − t)``) can fold them in there (:func:`apply_factors` upsamples one).
    A caller that already measured the sun may pass it as ``coarse["sun"]``."""
    sun = coarse.get("sun") or estimate_sun(coarse)
    gain = (1.0 - 0.5 * sun.share) / float(sun.r0 @ LUMA) * float(exposure)
    if sun.share == 0.0 and gain == 1.0 and (sky_grey <= 0.0 or _sky_is_clear(coarse) is None):
        return None, 0.0
    half = _halves(planes, _rows_needed(coarse, sun, (planes[0].shape[0] + 1) // 2, sky_grey > 0.0))
    s, sky_w = _sunlit(half, planes[0].shape[0], coarse, sun)
    factors = _relight_factors(sun, s, sky_w, gain)
    if sky_grey > 0.0:
        _overcast_sky(factors, half, planes[0].shape, coarse, strength=float(sky_grey), exposure=float(exposure),
                      sky_w=sky_w)
    return factors, sun.share
