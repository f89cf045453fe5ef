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

from typing import Any, Mapping, NamedTuple

import numpy as np

from domaug.kit import cv2_module

from .layout import GROUND, SKY
from .scene import upsample
from .scratch import buffer

LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
#: Sun-shadow / sunlit ratio per channel on a clear day without shadows to measure it on
#: (diffuse skylight ≈ 15–30 % of global irradiance, bluer than the sun).
CLEAR_DAY_R0 = np.array([0.22, 0.27, 0.38], dtype=np.float32)
#: A sky is clear (blue) when its blue / red ratio in linear light exceeds this.
CLEAR_SKY_BLUE_RED = 2.2
#: Vertical objects: taken as sunlit on this fraction of their visible surface (their facing is
#: unknown; a forward camera mostly sees the sunlit faces of roadside objects in daytime).
VERTICAL_SUNLIT = 0.65


def luma(a: np.ndarray) -> np.ndarray:
    """Linear luminance of an ...×3 float32 array (three scaled adds: no BLAS call, whose
    threads spin under load for a product this small)."""
    y = a[..., 0] * LUMA[0]
    y += a[..., 1] * LUMA[1]
    y += a[..., 2] * LUMA[2]
    return y


class SunLight(NamedTuple):
    """What the frame says of its sunlight: ``r0`` (3,) sun-shadow / sunlit ratio per
    channel (1 = no direct sun), ``share`` the direct sun's share of the road's illumination
    (1 − r0 in luminance), ``lit_rows`` (coarse rows,) the road's sunlit luminance per row of
    the coarse grid (NaN where the row has no road) and ``measured`` (shadows were found)."""

    r0: np.ndarray
    share: float
    lit_rows: np.ndarray
    measured: bool


def _lit_rows(y: np.ndarray, ground: np.ndarray) -> np.ndarray:
    """The 75th percentile of the road's luminance in each row of the coarse grid, filled
    between rows with road (NaN when the frame has < 6 road pixels in every row)."""
    hs, ws = y.shape
    n = ground.sum(axis=1)
    ordered = np.sort(np.where(ground, y, -np.inf), axis=1)
    idx = np.clip(ws - n + (0.75 * n).astype(np.intp), 0, ws - 1)
    lit = ordered[np.arange(hs), idx].astype(np.float32)
    ok = n >= 6
    if not ok.any():
        return np.full(hs, np.nan, dtype=np.float32)
    rows = np.arange(hs)
    filled = np.interp(rows, rows[ok], lit[ok]).astype(np.float32)
    filled[: int(np.argmax(ok))] = np.nan  # nothing above the first road row
    return filled


def _sky_is_clear(coarse: Mapping[str, Any]) -> bool | None:
    """True for a clear blue sky, False for a grey / hazy one, None when the frame shows < 30
    sky pixels on the coarse grid."""
    sky = coarse["labels"] == SKY
    if sky.sum() < 30:
        return None
    step = 2 if sky.sum() >= 4000 else 1  # a large sky: every 4th cell is enough for a median
    colour = np.median(coarse["small"][::step, ::step][sky[::step, ::step]], axis=0)
    return bool(colour[2] > CLEAR_SKY_BLUE_RED * max(float(colour[0]), 1e-6))


def estimate_sun(coarse: Mapping[str, Any]) -> SunLight:
    """Measure the frame's sunlight on the coarse grid (see the module docstring): none under a
    grey sky; under a clear sky (or none in view) the blue cast shadows on the road give r0."""
    small, labels = coarse["small"][::2, ::2], coarse["labels"][::2, ::2]  # every second row and column: enough
    y = luma(small)
    ground = labels == GROUND
    lit_half = _lit_rows(y, ground)
    full_rows = coarse["labels"].shape[0]
    lit_rows = np.interp(np.arange(full_rows) / 2.0, np.arange(len(lit_half)), lit_half).astype(np.float32)
    lit_rows[np.arange(full_rows) / 2.0 < np.argmax(np.isfinite(lit_half))] = np.nan
    clear = _sky_is_clear(coarse)
    if clear is False:
        return SunLight(np.ones(3, dtype=np.float32), 0.0, lit_rows, False)
    ratio = y / np.where(np.isfinite(lit_half), lit_half, np.inf)[:, None]
    camera = coarse.get("camera") or {}
    hs = labels.shape[0]
    first = (camera.get("horizon_row", 0.58 * full_rows * coarse["k"]) / (2 * coarse["k"])) + 0.1 * hs
    body = ground & (np.arange(hs)[:, None] >= first)  # the road's body: near the horizon objects pass for road
    lit = body & (ratio > 0.85) & (ratio < 1.25)
    shade = body & (ratio > 0.1) & (ratio < 0.6)
    if shade.sum() >= max(15, 0.02 * body.sum()) and lit.sum() >= 15:
        norm = small / np.maximum(np.nan_to_num(lit_half), 1e-6)[:, None, None]
        r0 = np.median(norm[shade], axis=0) / np.maximum(np.median(norm[lit], axis=0), 1e-6)
        chroma = small[..., 2] / (small.sum(axis=2) + 1e-6)
        if np.median(chroma[shade]) > np.median(chroma[lit]) + 0.02:  # blue shadows: the sun's
            r0 = np.clip(r0, 0.08, 1.0).astype(np.float32)
            return SunLight(r0, float(1.0 - r0 @ LUMA), lit_rows, True)
    if clear:
        return SunLight(CLEAR_DAY_R0.copy(), float(1.0 - CLEAR_DAY_R0 @ LUMA), lit_rows, False)
    return SunLight(np.ones(3, dtype=np.float32), 0.0, lit_rows, False)


def _half(plane: np.ndarray, shape: tuple[int, int], name: str) -> np.ndarray:
    """``plane`` averaged over 2×2 blocks (``shape`` = its half size, rounded up)."""
    out = buffer(name, shape)
    cv2 = cv2_module()
    if cv2 is not None and plane.shape[1] < 2**20 and plane.strides[-1] == 4:
        cv2.resize(plane, (shape[1], shape[0]), dst=out, interpolation=cv2.INTER_AREA)
    else:
        np.copyto(out, plane[::2, ::2])
    return out


def _sunlit(half: list[np.ndarray], full_h: int, coarse: Mapping[str, Any], sun: SunLight) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel sun visibility S on the half-resolution planes (1 sunlit … 0 in shadow) and the
    sky weight there (0…1). Ground pixels are measured against their row's sunlit road; the
    others are :data:`VERTICAL_SUNLIT`."""
    h2, w2 = half[0].shape
    labels = coarse["labels"]
    sky_w = upsample((labels == SKY).astype(np.float32), (h2, w2))
    s = np.full((h2, w2), VERTICAL_SUNLIT, dtype=np.float32)
    lit_rows = sun.lit_rows
    if sun.share > 0.0 and np.isfinite(lit_rows).any():
        hs = len(lit_rows)
        rows_c = np.clip(((np.arange(h2) + 0.5) * hs / h2).astype(np.intp), 0, hs - 1)
        ref = lit_rows[rows_c]
        band = np.nonzero(np.isfinite(ref))[0]
        r0, r1 = int(band[0]), int(band[-1]) + 1
        ground_w = upsample((labels == GROUND).astype(np.float32), (h2, w2))[r0:r1]
        y = half[0][r0:r1] * LUMA[0] + half[1][r0:r1] * LUMA[1] + half[2][r0:r1] * LUMA[2]
        lo = float(sun.r0 @ LUMA) + 0.08  # umbra (with some margin) … the darkest sunlit asphalt: tyre
        hi = max(0.72, lo + 0.08)  # tracks and patches at 0.75–0.85 of their row's lit level stay sunlit
        y /= ref[r0:r1, None]
        ground_s = np.clip((y - lo) / (hi - lo), 0.0, 1.0)
        s[r0:r1] = ground_w * ground_s + (1.0 - ground_w) * np.float32(VERTICAL_SUNLIT)
    return s, sky_w


def _relight_factors(sun: SunLight, s: np.ndarray, sky_w: np.ndarray, gain: float) -> list[np.ndarray]:
    """Per channel ``gain · r0_c / (r0_c + (1 − r0_c)·S)`` off the sky, 1 on it."""
    out = []
    clear = np.subtract(np.float32(1.0), sky_w, out=buffer("overcast_clear", s.shape))
    for c in range(3):  # in place, in this thread's scratch: no temporaries
        f = np.multiply(s, np.float32(1.0 - sun.r0[c]), out=buffer(f"overcast_factor{c}", s.shape))
        f += np.float32(sun.r0[c])
        np.divide(np.float32(sun.r0[c] * gain), f, out=f)
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


def _halves(planes: list[np.ndarray]) -> list[np.ndarray]:
    h, w = planes[0].shape
    shape = ((h + 1) // 2, (w + 1) // 2)
    return [_half(p, shape, f"overcast_half{c}") for c, p in enumerate(planes)]


def remove_sun(planes: list[np.ndarray], coarse: Mapping[str, Any]) -> float:
    """In place: divide the direct sun out of the frame (sun shadows lifted, sunlit surfaces
    down to their diffuse level, the sky untouched). Returns the direct sun's estimated share
    of the illumination (0 when the frame is overcast already: then nothing changes)."""
    sun = estimate_sun(coarse)
    if sun.share > 0.0:
        half = _halves(planes)
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
    half = _halves(planes)
    s, sky_w = _sunlit(half, planes[0].shape[0], coarse, sun)
    factors = _relight_factors(sun, s, sky_w, gain)
    if sky_grey > 0.0:
        _overcast_sky(factors, half, planes[0].shape, coarse, strength=float(sky_grey), exposure=float(exposure))
    return factors, sun.share


def _overcast_sky(factors: list[np.ndarray], half: list[np.ndarray], shape: tuple[int, int],
                  coarse: Mapping[str, Any], *, strength: float, exposure: float) -> None:
    """Blend the factors of sky pixels towards the CIE standard overcast sky, ``L(θ) ∝ 1 + 2 sin θ``
    above the horizon (θ the elevation of the pixel's ray), at the frame's own mean sky
    luminance × ``exposure``; clouds keep their relative structure (square-root compressed);
    the colour is a neutral grey with a quarter of the original sky's tint (the camera's
    white balance). Dark pixels inside the sky mask (branches, wires) keep their factor."""
    small, labels = coarse["small"], coarse["labels"]
    sky_c = labels == SKY
    if sky_c.sum() < 4:
        return
    h, w = shape
    h2, w2 = half[0].shape
    sky_px = small[sky_c]
    colour = np.median(sky_px[:: 4 if len(sky_px) >= 4000 else 1], axis=0)  # a large sky: every 4th cell
    y_sky = float(colour @ LUMA)
    tint = (0.75 + 0.25 * colour / max(float(colour.mean()), 1e-6)).astype(np.float32)
    camera = coarse.get("camera") or {}
    horizon = float(camera.get("horizon_row", _horizon_of(coarse, h)))
    focal = float(camera.get("focal_length_px", 0.9 * w))
    rows_c = np.nonzero(sky_c.any(axis=1))[0]
    bottom = min(h2, int(np.ceil((rows_c[-1] + 2) * h2 / sky_c.shape[0])))
    rows_full = (np.arange(bottom, dtype=np.float32) + 0.5) * (h / h2)
    shape_rows = 1.0 + 2.0 * np.sin(np.arctan(np.maximum(horizon - rows_full, 0.0) / focal))
    per_row = sky_c.sum(axis=1)  # the CIE shape's mean over the sky cells, row by row
    rows_sky = (np.arange(sky_c.shape[0]) + 0.5) * (h / sky_c.shape[0])
    shape_sky = 1.0 + 2.0 * np.sin(np.arctan(np.maximum(horizon - rows_sky, 0.0) / focal))
    mean_shape = float(per_row @ shape_sky) / float(per_row.sum())
    level = float(np.mean(luma(sky_px))) * exposure / mean_shape  # the sky's mean luminance kept
    radiance_rows = (level * shape_rows).astype(np.float32)[:, None]
    y = half[0][:bottom] * LUMA[0] + half[1][:bottom] * LUMA[1] + half[2][:bottom] * LUMA[2]
    rel = y / np.float32(max(y_sky, 1e-6))
    alpha = upsample(sky_c.astype(np.float32), (h2, w2))[:bottom]
    alpha *= np.clip((rel - 0.35) / 0.3, 0.0, 1.0)  # dark pixels in the mask are objects
    _sky_through_gaps(alpha, half, colour, y, int(np.clip(np.floor(horizon * h2 / h), 0, bottom)))
    alpha *= np.float32(strength)
    target = radiance_rows * np.sqrt(np.maximum(rel, 0.0))
    wanted = buffer("overcast_wanted", target.shape)
    for c in range(3):  # f += alpha·(wanted − f), in place
        f = factors[c][:bottom]
        np.maximum(half[c][:bottom], np.float32(1e-4), out=wanted)
        np.divide(target, wanted, out=wanted)
        wanted *= tint[c]
        wanted -= f
        wanted *= alpha
        f += wanted


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
