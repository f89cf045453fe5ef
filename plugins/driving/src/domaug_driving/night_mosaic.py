"""Night's light applied straight onto the camera's raw mosaic: one fused pass per channel.

Every step of the relighting is linear in the linear-sRGB planes, and so is the mosaic (each
photosite sees ``Σ_j K[c, j]·plane_j``, :func:`.raw_noise.mosaic`), so the relit mosaic is
``Σ_j K_j ⊙ M_j ⊙ plane_j`` with ``M_j`` the smooth multiplier (the night's light × the
sun-removal factors, upsampled once per channel); the sky band, poles and lamp glows are
applied on the mosaic itself with their colours taken to camera space: the same result as
relighting three planes and mosaicking them (up to the wide halos' half-pixel phase), in
fewer full-resolution passes and without the three relit planes' memory traffic.
"""

from __future__ import annotations

import numpy as np

from domaug.kit import cv2_module

from . import raw_noise
from .night_ego import EgoEdge, relight_ego_edge
from .night_scene import line_coverage
from .scene import add_product
from .plane_ops import upsample
from .plane_ops import multiply
from .scratch import buffer
from .sensor import GLOW_RADIUS_SIGMAS

#: Camera channel of each photosite of the RGGB mosaic, by (row parity, column parity).
SITE = ((0, 1), (1, 2))


def relit_mosaic(planes: list[np.ndarray], light, sky: tuple | None, sun: list[np.ndarray] | None,
                 ego: EgoEdge | None = None) -> np.ndarray:
    """The relit RGGB mosaic (H×W float32 scratch, camera channels before white balance) of
    the linear planes under ``light`` (:class:`.night_scene.NightLight`): surfaces × M, the
    sky share relit as night sky (:func:`.night_scene.sky_share`), the poles, the glows; M across
    the ego vehicle's top edge on the frame's edge (``ego``: :func:`.night_ego.ego_edge`)."""
    h, w = planes[0].shape
    k = raw_noise.camera_matrix(1.0 / light.raw_gains)  # (camera channel, plane)
    maps = raw_noise.site_coefficients(h, w, tuple(float(g) for g in 1.0 / light.raw_gains))
    raw = buffer("raw_mosaic", (h, w))
    field = buffer("night_field", (h, w))
    halos = _halo_fields(k, light, (h, w))
    first = halos is not None and h % 2 == 0 and w % 2 == 0
    if first:  # the halos fill the mosaic first: one pass fewer
        quads = raw.reshape(h // 2, 2, w // 2, 2)
        quads[:, 0] = _merge(halos[0], halos[1])
        quads[:, 1] = _merge(halos[1], halos[2])
    for j, p in enumerate(planes):
        if sun is None:
            upsample(light.mult[j], (h, w), out=field)
        else:
            half = upsample(light.mult[j], sun[j].shape, out=buffer("night_half", sun[j].shape))
            half *= sun[j]
            upsample(half, (h, w), out=field)
        if ego is not None:
            relight_ego_edge(field, light.mult[j], None if sun is None else sun[j], ego)
        multiply(field, maps[j])  # K[c, j] of each site's channel c
        if sky is not None:  # the sky band's surface share (the halos stay whole)
            multiply(field[: sky[1].shape[0]], sky[1])
        if j == 0 and not first:
            multiply(field, p, out=raw)
        else:
            add_product(field, p, raw)
    if sky is not None:
        _night_sky(raw, k, light, sky)
    _poles(raw, k, light.poles, light.pole_colour, halos if first else None)
    if halos is not None and not first:
        for dr in (0, 1):
            for dc in (0, 1):
                sub = raw[dr::2, dc::2]
                sub += halos[SITE[dr][dc]][: sub.shape[0], : sub.shape[1]]
    _core_glows(raw, k, light)
    return raw


def _halo_fields(k: np.ndarray, light, shape: tuple[int, int]) -> list[np.ndarray] | None:
    """The wide halos of the light grid in camera channels at half resolution (one field per
    channel, for the sub-mosaic of its sites: smooth over ≥ 16 px, so half a pixel of phase
    does not show), or None without them."""
    if light.added is None:
        return None
    h, w = shape
    half = ((h + 1) // 2, (w + 1) // 2)
    cam = np.tensordot(k, light.added, axes=1).astype(np.float32)  # (camera channel, hs, ws)
    return [upsample(cam[c], half, out=buffer(f"night_halo{c}", half)) for c in range(3)]


def _merge(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(h, w, 2): ``a`` and ``b`` interleaved along the rows (one row of the RGGB mosaic)."""
    cv2 = cv2_module()
    if cv2 is not None and a.shape[1] < 2**20:
        return cv2.merge([a, b])
    return np.stack([a, b], axis=-1)


def _night_sky(raw: np.ndarray, k: np.ndarray, light, sky: tuple) -> None:
    """The sky band: ``+ share·(K·night sky of the row)`` (the surfaces' ``keep`` is in the
    multiplier already: this is the planes' ``p·M·keep + share·S_c``, mosaicked)."""
    share, _ = sky
    rows, w = share.shape
    band = raw[:rows]
    night = k @ (light.sky_colour * light.sky_rows)  # (camera channel, rows)
    target = buffer("night_sky_target", (rows, w))
    even = np.arange(rows) % 2 == 0
    for cp in (0, 1):
        target[:, cp::2] = np.where(even, night[SITE[0][cp]], night[SITE[1][cp]]).astype(np.float32)[:, None]
    add_product(share, target, band)


def _poles(raw: np.ndarray, k: np.ndarray, poles: list, colours: np.ndarray, halos: list | None) -> None:
    """Each pole (and its arm, as thick, at the top) as a thin line of its colour in camera
    channels per site, blended by the fraction of each pixel it covers
    (:func:`.night_scene.line_coverage`) where the layout has nothing nearer; the lamps' halos
    already in ``raw`` (``halos`` given) stay over the poles."""
    h, w = raw.shape
    for (c, r0, r1, width, vis, (arm_row, a0, a1, arm_vis)), colour in zip(poles, colours):
        cam = (k @ np.asarray(colour, np.float32)).astype(np.float32)
        rows = np.arange(r0, r1)[vis]
        if len(rows):
            col = _site_values(cam, halos, rows, np.full(len(rows), min(max(int(c), 0), w - 1)))
            for j, cover in line_coverage(c, width, w):
                target = np.where(rows % 2 == 0, col[SITE[0][j % 2]], col[SITE[1][j % 2]])
                raw[rows, j] += cover * (target - raw[rows, j])
        cols = np.arange(a0, a1)[arm_vis]
        if len(cols):
            row = _site_values(cam, halos, np.full(len(cols), min(max(int(arm_row), 0), h - 1)), cols)
            for i, cover in line_coverage(arm_row, width, h):
                target = np.where(cols % 2 == 0, row[SITE[i % 2][0]], row[SITE[i % 2][1]])
                raw[i, cols] += cover * (target - raw[i, cols])


def _site_values(cam: np.ndarray, halos: list | None, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """(3, n) the pole's colour per camera channel at (row, col) plus the halos there (their
    half pixel: the same for the pole's 1–3 columns or rows)."""
    out = np.repeat(cam[:, None], len(rows), axis=1)
    if halos is not None:
        out += np.stack([hf[rows // 2, cols // 2] for hf in halos])
    return out


def _core_glows(raw: np.ndarray, k: np.ndarray, light) -> None:
    """The narrow glows (cores and near halos) on the mosaic: each Gaussian (its ±6.3σ window
    aligned to the 2×2 sites) times its colour in the camera channel of each site, exact in
    phase (no zipper at the edge of a saturated lamp); profiles computed for all at once."""
    if not len(light.centres):
        return
    h, w = raw.shape
    peaks = (light.colours @ k.T).astype(np.float32)  # (glow, camera channel)
    cy, cx = light.centres[:, 0], light.centres[:, 1]
    reach = GLOW_RADIUS_SIGMAS * light.sigmas
    r0 = np.clip(np.floor(cy - reach), 0, h).astype(np.int64) // 2 * 2
    r1 = np.clip(np.ceil(cy + reach) + 1, 0, h).astype(np.int64)
    c0 = np.clip(np.floor(cx - reach), 0, w).astype(np.int64) // 2 * 2
    c1 = np.clip(np.ceil(cx + reach) + 1, 0, w).astype(np.int64)
    gy, fy = _profiles(r0, r1, cy, light.sigmas)
    gx, fx = _profiles(c0, c1, cx, light.sigmas)
    par = _parity(int(max((r1 - r0).max(), 0)), int(max((c1 - c0).max(), 0)))
    for i in range(len(cy)):
        a0, a1, b0, b1 = int(r0[i]), int(r1[i]), int(c0[i]), int(c1[i])
        if a1 <= a0 or b1 <= b0:
            continue
        patch = np.multiply.outer(gy[fy[i] : fy[i] + a1 - a0], gx[fx[i] : fx[i] + b1 - b0])
        patch *= np.take(peaks[i], par[: a1 - a0, : b1 - b0])
        raw[a0:a1, b0:b1] += patch


def _parity(m: int, n: int) -> np.ndarray:
    """(m, n) camera channel of each site of a window starting on an R site."""
    return np.asarray(SITE)[np.arange(m)[:, None] % 2, np.arange(n)[None, :] % 2]


def _profiles(lo: np.ndarray, hi: np.ndarray, centre: np.ndarray, sigma: np.ndarray):
    """Every glow's 1-D Gaussian profile over its window [lo, hi) (pixel centres at +½), in one
    flat float32 array, and where each starts."""
    n = np.maximum(hi - lo, 0)
    first = np.cumsum(n) - n
    pos = (np.arange(int(n.sum())) - np.repeat(first, n) + np.repeat(lo, n)).astype(np.float32)
    u = (pos + np.repeat((0.5 - centre).astype(np.float32), n)) / np.repeat(sigma.astype(np.float32), n)
    return np.exp(np.float32(-0.5) * u * u), first
