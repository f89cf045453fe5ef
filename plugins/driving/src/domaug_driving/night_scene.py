"""Night's light on the frame: coarse multiplier and glow fields, light sources, poles, exposure.

:func:`night_light` turns Night's params and the scene layout into a :class:`NightLight`: a
per-channel multiplier on the reflectance proxy (E/(π·W) on surfaces, the night sky's luminance
over the day sky's on sky cells), wide halos on the coarse grid, narrow source glows at full
resolution, street-lamp poles (placed and drawn by :mod:`.night_poles`), the ISO the
auto-exposure picks and the sensor's noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from domaug.kit import cv2_module

from . import night_lights as nl
from .camera import box_filter
from .layout import GROUND, SKY, VERTICAL
from .night_poles import (  # noqa: F401  (the street lamps' and poles' names live on in this module)
    HOUSE_SIDE,
    MIN_LINE_PX,
    POLE_DIAMETER_M,
    POLE_REFLECTANCE,
    ROAD_EDGE_REACH_M,
    ROAD_GAP_M,
    _clamp,
    _lamps,
    _pole_colours,
    _poles,
    _to_road_edge,
    line_coverage,
)
from .raw_noise import noise_of_iso, saturation_luminance
from .scratch import buffer
from .scene import clip_min
from .sensor import glow_field, illuminant_rgb

__all__ = ["HEADLAMP_SRGB", "HOUSE_SIDE", "LIGHT_GRID_PX", "LUMA", "MIN_LINE_PX", "NightLight", "POLE_DIAMETER_M",
           "POLE_REFLECTANCE", "POOL_REACH_M", "RAW_WB_GAINS", "ROAD_EDGE_REACH_M", "ROAD_GAP_M", "ROAD_REFLECTANCE",
           "ZENITH_RGB", "_clamp", "_colours", "_irradiance", "_lamps", "_pole_colours", "_poles", "_sky_mult",
           "_sky_rows", "_smooth_along_rows", "_sources", "_srgb_unit", "_to_road_edge", "_unit", "_vehicles",
           "_visible", "_white_level", "_zero_below", "line_coverage", "night_light", "sky_share"]

LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)
#: Raw channel sensitivities under daylight as white-balance gains (Brooks et al. 2019 draw red
#: 1.9–2.4, blue 1.5–1.9): noise on the raw red and blue sites is amplified by them.
RAW_WB_GAINS = np.array([2.1, 1.0, 1.7], np.float32)
#: The road's reflectance that anchors the reflectance proxy (aged asphalt ≈ 0.1; CIE 144).
ROAD_REFLECTANCE = 0.1
#: Short side (cells) of the grid the light fields are computed on (every s-th layout cell).
LIGHT_GRID_PX = 128
#: Street lamps farther than this (m) are drawn but their pools of light are not computed.
POOL_REACH_M = 150.0
#: Colours (linear RGB, unit luminance before normalising): a halogen (3200 K) and a white LED
#: (5700 K) headlamp, the clear night sky's blue-black zenith.
HEADLAMP_SRGB = {"halogen": (255, 187, 120), "led": (255, 240, 228)}
ZENITH_RGB = (0.6, 0.8, 1.5)


@dataclass
class NightLight:
    """Everything the pixel passes need (see the module docstring)."""

    mult: np.ndarray  # (3, hs, ws) linear multiplier of the reflectance proxy
    added: np.ndarray | None  # (3, hs, ws) wide halos
    centres: np.ndarray  # narrow glows at full resolution
    sigmas: np.ndarray
    colours: np.ndarray
    poles: list  # (col, row0, row1, width px, visible rows (bool), arm (row, col0, col1, visible cols))
    heads: list  # visible lamp heads: (row, col, index of their pole in ``poles``)
    pole_colour: np.ndarray  # (poles, 3) linear colour of each pole
    raw_gains: np.ndarray
    shot: float
    read: float
    iso: float
    sky_rows: np.ndarray | None  # (3, rows) sky multiplier of the full rows down to the lowest sky
    sky_colour: np.ndarray | None  # (3, rows) the day sky's mean linear colour in each of those rows


def _unit(rgb) -> np.ndarray:
    rgb = np.asarray(rgb, np.float32)
    return rgb / float(rgb @ LUMA)


def _srgb_unit(code) -> np.ndarray:
    from domaug.kit import srgb_to_linear

    return _unit(srgb_to_linear(np.asarray(code, np.float64) / 255.0))


def _white_level(small: np.ndarray, labels: np.ndarray, sun_share: float) -> float:
    """Linear level of a white Lambertian surface in the (sun-free) day frame: the road's median
    luminance over asphalt's reflectance (else the scene's over 0.2)."""
    y = small @ LUMA
    road = labels == GROUND
    if road.sum() >= 4:
        w = float(np.median(y[road])) / ROAD_REFLECTANCE
    elif (labels != SKY).any():
        w = float(np.median(y[labels != SKY])) / 0.2
    else:
        w = 1.0
    return max(w * (1.0 - min(max(sun_share, 0.0), 0.95)), 1e-4)


def _colours(params: Mapping[str, Any]) -> dict:
    """Light colours after the camera's auto white balance (which divides by a mix of the
    dominant lamp colour and white: ``white_balance_shift`` = 1 leaves the colour as it is)."""
    lamps = params["street_lamps"]
    lamp = illuminant_rgb(lamps["spectrum"])
    head = _srgb_unit(HEADLAMP_SRGB[params["headlamp_type"]])
    dominant = lamp if lamps["intensity_cd"] > 0 else head
    s = float(params["white_balance_shift"])
    awb = _unit(s + (1.0 - s) * dominant)
    out = {"lamp": lamp, "head": head, "tail": illuminant_rgb("tail_light"), "zenith": _unit(ZENITH_RGB),
           "glow": _unit(0.6 * lamp + 0.4)}
    out["ambient"] = out["glow"]
    return {k: _unit(v / awb) for k, v in out.items()}


def _irradiance(params, pts, labels, lamps, col) -> np.ndarray:
    """Illuminance (lux, (3, hs, ws)) of the ambient, the headlamps and the street lamps."""
    e = np.empty((3,) + labels.shape, np.float32)
    e[:] = (np.float32(params["ambient_lux"]) * col["ambient"])[:, None, None]
    lit = (labels == GROUND) | (labels == VERTICAL)  # sky and hood take no direct light: skip them
    cells = tuple(a[lit] for a in pts)
    surf = nl.surfaces(cells, labels[lit])
    direct = np.zeros((3, len(cells[0])), np.float32)
    if params["headlight_intensity_cd"] > 0:
        head = nl.headlight_irradiance(cells, surf, params["headlight_intensity_cd"], params["traffic_side"])
        direct += col["head"][:, None] * head
    if len(lamps):
        near = lamps[lamps[:, 3] < POOL_REACH_M]  # farther pools cover a few rows at the horizon
        pool = nl.lamp_irradiance(cells, surf, near[:, [1, 2, 3]], params["street_lamps"]["intensity_cd"])
        direct += col["lamp"][:, None] * pool
    e[:, lit] += direct
    return _smooth_along_rows(e, labels == VERTICAL, max(3, labels.shape[1] // 40) | 1)


def _smooth_along_rows(e: np.ndarray, mask: np.ndarray, width: int) -> np.ndarray:
    """``e`` (3, hs, ws) averaged along rows over ``width`` cells within ``mask`` only
    (normalised convolution): the layout's distances step from column to column on vertical
    objects, which near lamps would show as vertical bands of light."""
    m = mask.astype(np.float32)
    den = box_filter(m, (1, width))
    for c in range(3):
        num = box_filter(e[c] * m, (1, width))
        np.copyto(e[c], num / np.maximum(den, 1e-6), where=mask)
    return e


def _sky_mult(params, small, labels, cam, grid, col) -> np.ndarray | None:
    """Per-channel multiplier of the sky cells (3, hs, 1): night sky luminance over the day sky."""
    sky = labels == SKY
    if not sky.any():
        return None
    day = np.maximum(np.median(small[sky], axis=0), 1e-3).astype(np.float32)
    rows = np.arange(labels.shape[0]) * grid[0] + grid[1] + 0.5
    lz = float(params["sky_luminance_cd_m2"])
    glow = nl.sky_luminance(rows, cam, lz, float(params["sky_glow"])) - np.float32(lz)
    lum = lz * col["zenith"][:, None] + glow[None, :] * col["glow"][:, None]
    return (lum / day[:, None])[:, :, None]


def _vehicles(params, scene, labels, cam, k, w) -> list:
    """(left col, right col, contact row) of each vehicle to light."""
    which = params["vehicle_lights"]
    if which == "layout":
        return nl.vehicles_in_layout(labels, cam, k, w)
    boxes = scene.get("bboxes")
    if not which or boxes is None:
        return []
    b = np.asarray(boxes, np.float64)
    return [(b[i, 0], b[i, 2], b[i, 3]) for i in which if i < len(b)]


def _sources(params, scene, labels, dist, lamps, cam, k, shape, col):
    """Light sources seen by the camera: rows, cols, flux (cd·px²/m²: I·f²/ℓ²), core σ px, colours."""
    h, w = shape
    f, vh, ch = cam["focal_length_px"], cam["horizon_row"], cam["camera_height_m"]
    rows, cols, flux, core, colours, heads = [], [], [], [], [], []
    head_cd = nl.HEAD_VIEW_FRACTION * params["street_lamps"]["intensity_cd"]
    for n, (_, hx, hh, z) in enumerate(lamps):
        if z < 1.0:
            continue
        r, c = nl.project(hx, hh, z, cam, w)
        ell = float(np.sqrt(hx * hx + (hh - ch) ** 2 + z * z))
        if _visible(r, c, ell, labels, dist, k, shape):
            heads.append((r, c, n))
            rows.append(r), cols.append(c), flux.append(head_cd * f * f / ell**2)
            core.append(0.5 * f * nl.LAMP_RADIUS_M / ell), colours.append(col["lamp"])
    for x0, x1, contact in _vehicles(params, scene, labels, cam, k, w):
        if contact <= vh + 1.0:
            continue
        z = f * ch / (contact - vh)
        r = contact - f * nl.TAIL_LIGHT_HEIGHT_M / z
        inset = nl.TAIL_LIGHT_INSET * (x1 - x0)
        for c in (x0 + inset, x1 - inset):
            rows.append(r), cols.append(c), flux.append(params["tail_light_cd"] * f * f / z**2)
            core.append(0.5 * f * nl.TAIL_LIGHT_RADIUS_M / z), colours.append(col["tail"])
    return rows, cols, np.asarray(flux, np.float64), core, colours, heads


def _visible(r, c, ell, labels, dist, k, shape) -> bool:
    """A source at (r, c), ℓ m away, is in the frame and not behind a nearer object of the layout."""
    h, w = shape
    if not (0 <= r < h and 0 <= c < w):
        return False
    i, j = min(int(r) // k, labels.shape[0] - 1), min(int(c) // k, labels.shape[1] - 1)
    return bool(labels[i, j] == SKY or dist[i, j] >= 0.85 * ell)


def night_light(params: Mapping[str, Any], coarse: Mapping[str, Any], scene: Mapping[str, Any],
                shape: tuple[int, int], sun_share: float) -> NightLight:
    """The night's light for one frame (see :class:`NightLight`). Light fields are computed on
    every s-th cell of the layout's grid (:data:`LIGHT_GRID_PX` on the short side); occlusion
    of the sources and poles is tested on the layout's own grid."""
    h, w = shape
    cam, k, labels_c = params["camera"], coarse["k"], coarse["labels"]
    hs, ws = labels_c.shape
    dist_c = coarse["dist"][k // 2 :: k, k // 2 :: k][:hs, :ws] if coarse.get("full") else coarse["dist"]
    s = max(1, min(hs, ws) // LIGHT_GRID_PX)
    labels, dist, small = (a[s // 2 :: s, s // 2 :: s] for a in (labels_c, dist_c, coarse["small"]))
    grid = (k * s, k * (s // 2) + k // 2)  # the light grid: cell (i, j) = full pixel (g·i + o, g·j + o)
    col = _colours(params)
    lamps = _to_road_edge(_lamps(params), labels_c, cam, k, shape)
    pts = nl.cell_points(np.asarray(dist, np.float32), cam, grid[0], w, labels, offset=grid[1])
    mult = _irradiance(params, pts, labels, lamps, col) / np.float32(np.pi * _white_level(small, labels, sun_share))
    sky = _sky_mult(params, small, labels, cam, grid, col)
    if sky is not None:
        np.copyto(mult, np.broadcast_to(sky, mult.shape), where=(labels == SKY)[None])
    rows, cols, flux, core, colours, heads = _sources(params, scene, labels_c, dist_c, lamps, cam, k, shape, col)
    g = float(params["glare_fraction"])
    exposure_s, f_number = params["exposure_ms"] * 1e-3, params["f_number"]
    iso = params["iso"]
    if iso == "auto":  # night auto-exposure: the metered mean (halos included) to the target
        metered = float(np.tensordot(LUMA, mult * np.moveaxis(small, -1, 0), axes=1).mean())
        metered += g * float(flux.sum()) / (h * w)
        l100 = saturation_luminance(100.0, exposure_s, f_number)
        iso = float(np.clip(100.0 * params["metering_target"] * l100 / max(metered, 1e-9), 100.0, params["max_iso"]))
    scale = np.float32(1.0 / saturation_luminance(float(iso), exposure_s, f_number))
    mult *= scale
    centres, sigmas, peaks = nl.psf_glows(rows, cols, flux * float(scale), core, colours, g, w)
    step, off = grid
    wide = (sigmas >= 2.0 * step) & (step > 1)
    added = None
    if wide.any():
        added = np.moveaxis(glow_field(labels.shape, (centres[wide] - off + step / 2) / step, sigmas[wide] / step,
                                       peaks[wide]), -1, 0)
    shot, read = noise_of_iso(float(iso), params["full_well_e"], params["read_noise_e"])
    shot = shot if params.get("shot_noise") is None else float(params["shot_noise"])
    read = read if params.get("read_noise") is None else float(params["read_noise"])
    sky_rows, sky_colour = _sky_rows(sky, labels, small, cam, grid, shape, scale)
    poles = _poles(lamps, labels_c, dist_c, cam, k, shape)
    order = list(poles)
    heads = [(r, c, order.index(n) if n in poles else -1) for r, c, n in heads]
    pole_colours = _pole_colours(params, lamps, order, col) * scale
    return NightLight(mult, added, centres[~wide], sigmas[~wide], peaks[~wide], [poles[n] for n in order], heads,
                      pole_colours, RAW_WB_GAINS, shot, read, float(iso), sky_rows, sky_colour)


def _sky_rows(sky, labels, small, cam, grid, shape, scale):
    """The sky multiplier per full row (3, rows) from the top down to the lowest sky cell (and
    above the horizon), and the day sky's mean colour in each of those rows (3, rows: the sky is
    brighter and paler toward the horizon; rows below the last sky cell keep its colour);
    (None, None) without sky."""
    if sky is None:
        return None, None
    h, w = shape
    g, o = grid
    is_sky = labels == SKY
    low = int(np.nonzero(is_sky.any(axis=1))[0][-1])
    rows = int(min((low + 1) * g, cam["horizon_row"] - 0.03 * h, h))
    if rows <= 0:
        return None, None
    centres = np.arange(labels.shape[0]) * g + o
    at = np.arange(rows)
    out = np.stack([np.interp(at, centres, sky[c, :, 0]) for c in range(3)]).astype(np.float32) * scale
    count = is_sky.sum(axis=1)
    has = count > 0
    mean = np.einsum("ijc,ij->ci", small, is_sky.astype(small.dtype))[:, has] / count[has]
    colour = np.stack([np.interp(at, centres[has], mean[c]) for c in range(3)]).astype(np.float32)
    return out, colour


def sky_share(planes: list[np.ndarray], light: NightLight) -> tuple[np.ndarray, np.ndarray] | None:
    """The day sky seen through foliage and twigs finer than the layout's grid, in the rows of
    ``light.sky_rows``: (a, keep) float32 scratch, a the sky's share of each pixel's light
    unmixed from the blue plane against the day sky of its row (0 at 0.15× the row's sky blue,
    1 at it; 0 where green dominates or where the pixel is less blue than the sky: a white wall)
    and keep = 1 − a·max(sky_b/b, 1) the share of the pixel that is not sky (its colour unchanged). That
    share becomes night sky instead of lit foliage: no bright rim or glowing gaps in trees."""
    if light.sky_rows is None:
        return None
    rows = light.sky_rows.shape[1]
    r, g, b = planes[0][:rows], planes[1][:rows], planes[2][:rows]
    sky_r, sky_b = (np.maximum(light.sky_colour[c], 1e-4)[:, None] for c in (0, 2))
    share = buffer("night_sky_share", (rows, g.shape[1]))
    np.multiply(b, np.float32(1.0 / 0.85) / sky_b, out=share)
    share -= np.float32(0.15 / 0.85)
    np.clip(share, 0.0, 1.0, out=share)
    keep = buffer("night_sky_keep", share.shape)
    np.multiply(r, np.float32(0.5) * sky_b / sky_r, out=keep)  # b·sky_r ≥ 0.5·sky_b·r: no white wall
    _zero_below(share, b, keep, g)
    np.maximum(b, np.float32(1e-6), out=keep)
    np.divide(share, keep, out=keep)
    keep *= sky_b
    np.maximum(keep, share, out=keep)  # a pixel brighter than its row's sky is all sky
    np.subtract(np.float32(1.0), keep, out=keep)
    clip_min(keep, 0.0)
    return share, keep


def _zero_below(share: np.ndarray, b: np.ndarray, bound: np.ndarray, g: np.ndarray) -> None:
    """In place: ``share = 0`` where ``b < max(bound, 0.85·g)`` (greenish, or less blue than the
    sky for its red); ``bound`` is overwritten."""
    cv2 = cv2_module()
    if cv2 is not None and all(a.flags.c_contiguous for a in (share, b, bound, g)) and b.size and b.shape[1] < 2**20:
        cv2.max(bound, cv2.multiply(g, 0.85, dst=buffer("night_sky_green", g.shape)), dst=bound)
        cv2.subtract(share, share, dst=share, mask=cv2.compare(b, bound, cv2.CMP_LT))
        return
    np.maximum(bound, np.float32(0.85) * g, out=bound)
    share *= b >= bound
