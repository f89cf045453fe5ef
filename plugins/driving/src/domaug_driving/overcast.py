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
from .plane_ops import upsample
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


#: The sky's colour is the median (and its level the mean) of about this many of its coarse cells.
SKY_SAMPLES = 2000


def _sky_cells(coarse: Mapping[str, Any], min_cells: int) -> np.ndarray | None:
    """Linear colours (N×3) of about :data:`SKY_SAMPLES` of the sky's coarse cells (every
    step-th row and column), None when the sky has fewer than ``min_cells`` cells."""
    sky = coarse["labels"] == SKY
    n = int(np.count_nonzero(sky))
    if n < min_cells:
        return None
    step = max(1, int(np.sqrt(n / SKY_SAMPLES)))
    return coarse["small"][::step, ::step][sky[::step, ::step]]


def _sky_is_clear(coarse: Mapping[str, Any]) -> bool | None:
    """True for a clear blue sky, False for a grey / hazy one, None when the frame shows < 30
    sky pixels on the coarse grid."""
    cells = _sky_cells(coarse, 30)
    if cells is None:
        return None
    colour = np.median(cells, axis=0)
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
        ref = np.maximum(np.nan_to_num(lit_half), 1e-6)
        (rs, cs), (rl, cl) = np.nonzero(shade), np.nonzero(lit)  # only these cells: no full-grid passes
        px_s, px_l = small[rs, cs], small[rl, cl]
        r0 = (np.median(px_s / ref[rs, None], axis=0)
              / np.maximum(np.median(px_l / ref[rl, None], axis=0), 1e-6))
        chroma_s = px_s[:, 2] / (px_s.sum(axis=1) + 1e-6)
        chroma_l = px_l[:, 2] / (px_l.sum(axis=1) + 1e-6)
        if np.median(chroma_s) > np.median(chroma_l) + 0.02:  # blue shadows: the sun's
            r0 = np.clip(r0, 0.08, 1.0).astype(np.float32)
            return SunLight(r0, float(1.0 - r0 @ LUMA), lit_rows, True)
    if clear:
        return SunLight(CLEAR_DAY_R0.copy(), float(1.0 - CLEAR_DAY_R0 @ LUMA), lit_rows, False)
    return SunLight(np.ones(3, dtype=np.float32), 0.0, lit_rows, False)


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


def _sky_bottom(coarse: Mapping[str, Any], h2: int) -> int:
    """The half-size row below the lowest sky cell (and one more cell)."""
    rows_c = np.nonzero((coarse["labels"] == SKY).any(axis=1))[0]
    if not len(rows_c):
        return 0
    return min(h2, int(np.ceil((rows_c[-1] + 2) * h2 / coarse["labels"].shape[0])))


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
