"""Where lying snow is drawn: ground-plane and conformal (log-polar) coordinates of the coarse
grid of :func:`.scene.coarse_scene`, and the isotropic value noise of the snow's patchiness
on the latter (see :mod:`.snow_cover`)."""

from __future__ import annotations

import functools
from typing import Mapping

import numpy as np

from domaug.kit import cv2_module

#: Noise octaves: (cell size in metres, amplitude).
OCTAVES = ((2.0, 1.0), (0.8, 0.6), (0.32, 0.35), (0.12, 0.2))
#: Farthest ground distance (m) of the lane geometry (rows nearer the horizon take it).
Z_MAX_M = 200.0


def ground_coords(shape: tuple[int, int], k: int, camera: Mapping[str, float],
                  width_px: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, Z, footprint) in metres for the cells of a coarse grid (cell (i, j) = full pixel
    (k·i + k//2, k·j + k//2)) on the flat road Z = f·h/(v + 0.5 − v_h), X = (u + 0.5 − W/2)·Z/f;
    footprint is the ground length one cell spans (k·max(Z, |X|)·Z/(f·h)). Rows at or above
    the horizon get Z = :data:`Z_MAX_M`."""
    hs, ws = shape
    f, vh, ch = float(camera["focal_length_px"]), float(camera["horizon_row"]), float(camera["camera_height_m"])
    v = np.arange(hs, dtype=np.float64) * k + k // 2 + 0.5
    below = v - vh
    z = np.where(below > 0, f * ch / np.maximum(below, 1e-6), Z_MAX_M)
    z = np.minimum(z, Z_MAX_M)
    u = np.arange(ws, dtype=np.float64) * k + k // 2 + 0.5 - width_px / 2.0
    x = (z[:, None] * u[None, :] / f).astype(np.float32)
    # one cell down moves the ground point by k·Z²/(f·h) along Z and k·|X|·Z/(f·h) across
    foot = (k * z[:, None] / (f * ch) * np.maximum(z[:, None], np.abs(x))).astype(np.float32)
    return x, np.broadcast_to(z.astype(np.float32)[:, None], (hs, ws)), foot


def road_surface_coords(shape: tuple[int, int], k: int, camera: Mapping[str, float],
                        width_px: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(p, q, footprint) in metres for the cells of a coarse grid: the conformal (log-polar)
    map of the image about the vanishing point, p = h·ln r, q = h·θ (r, θ the polar
    coordinates of the pixel about (W/2, v_h), h the camera height). One pixel spans h/r
    metres in both directions, which on the road's axis (r = f·h/Z) is Z/f: the road's
    lateral ground scale. ``footprint`` is one cell's span, k·h/r."""
    hs, ws = shape
    h_m, vh = float(camera["camera_height_m"]), float(camera["horizon_row"])
    v = (np.arange(hs, dtype=np.float32) * k + k // 2 + 0.5 - np.float32(vh))[:, None]
    u = (np.arange(ws, dtype=np.float32) * k + k // 2 + 0.5 - np.float32(width_px / 2.0))[None, :]
    r = np.maximum(np.hypot(u, v), np.float32(1.0))
    p = np.float32(h_m) * np.log(r)
    q = np.float32(h_m) * np.arctan2(v, u)
    return p, q, (np.float32(k * h_m) / r).astype(np.float32)


@functools.lru_cache(maxsize=8)
def _grid_coords(shape: tuple[int, int], k: int, focal_px: float, horizon_row: float, height_m: float,
                 width_px: int) -> tuple[np.ndarray, ...]:
    """:func:`ground_coords` and :func:`road_surface_coords` of a grid, cached read-only (a
    dataset's frames share one camera: the same grid comes back on every call)."""
    cam = {"focal_length_px": focal_px, "horizon_row": horizon_row, "camera_height_m": height_m}
    out = ground_coords(shape, k, cam, width_px) + road_surface_coords(shape, k, cam, width_px)
    for a in out:
        a.flags.writeable = False
    return out


def surface_noise(p: np.ndarray, q: np.ndarray, footprint: np.ndarray, seed: int) -> np.ndarray:
    """Zero-mean isotropic value noise (float32, ``p``'s shape) at surface coordinates (p, q) m:
    :data:`OCTAVES` of bicubically interpolated Gaussian lattices, each rotated by a random
    angle (no lattice axis survives) and faded by exp(−(footprint/cell)²) (a pre-filter: a
    cell that sees many patches sees their mean)."""
    return _noise(_noise_geometry(p, q, footprint), seed)


def _noise_geometry(p: np.ndarray, q: np.ndarray, footprint: np.ndarray) -> tuple:
    """What :func:`surface_noise` needs of the grid alone: (p, q) centred, the lattice reach
    and each octave's fade (None where it fades out everywhere)."""
    pc, qc = p - np.float32(0.5 * (p.max() + p.min())), q - np.float32(0.5 * (q.max() + q.min()))
    reach = float(np.hypot(np.ptp(p), np.ptp(q))) * 0.5 + 1.0
    fades = []
    for cell, _ in OCTAVES:
        fade = np.exp(-np.square(footprint / np.float32(cell))).astype(np.float32)
        fades.append(fade if (fade > 1e-3).any() else None)
    for a in (pc, qc, *(f for f in fades if f is not None)):
        a.flags.writeable = False  # cached (:func:`_grid_noise_geometry`)
    return pc, qc, reach, tuple(fades)


@functools.lru_cache(maxsize=8)
def _grid_noise_geometry(*key) -> tuple:
    """:func:`_noise_geometry` of every second cell of the grid of ``key`` (see
    :func:`_grid_coords`), cached: it depends on the camera only."""
    _, _, _, p, q, surface_foot = _grid_coords(*key)
    return _noise_geometry(p[::2, ::2], q[::2, ::2], 2.0 * surface_foot[::2, ::2])


def _noise(geometry: tuple, seed: int) -> np.ndarray:
    """:func:`surface_noise` on a grid's :func:`_noise_geometry`."""
    pc, qc, reach, fades = geometry
    rng = np.random.default_rng(seed)
    out = np.zeros(pc.shape, dtype=np.float32)
    for (cell, amp), fade in zip(OCTAVES, fades):
        a = rng.uniform(0.0, 2.0 * np.pi)
        c, s = np.float32(np.cos(a)), np.float32(np.sin(a))
        n = int(np.ceil(2.0 * reach / cell)) + 4
        lattice = rng.standard_normal((n, n), dtype=np.float32)
        if fade is None:
            continue
        mx = ((c * pc - s * qc) + np.float32(reach)) / np.float32(cell) + np.float32(2.0)
        my = ((s * pc + c * qc) + np.float32(reach)) / np.float32(cell) + np.float32(2.0)
        out += _bicubic(lattice, mx.astype(np.float32), my.astype(np.float32)) * fade * np.float32(amp)
    return out


def _bicubic(lattice: np.ndarray, mx: np.ndarray, my: np.ndarray) -> np.ndarray:
    """``lattice`` sampled at (mx, my) (lattice units) with cubic interpolation."""
    if mx.size == 0:
        return np.zeros(mx.shape, dtype=np.float32)
    cv2 = cv2_module()
    if cv2 is not None and mx.shape[1] < 32768:
        return cv2.remap(lattice, mx, my, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    from scipy.ndimage import map_coordinates

    return map_coordinates(lattice, [my, mx], order=3, mode="mirror").astype(np.float32)
