"""Pure kernels of canopy-cover change: row detection and morphological grow/shrink by rank.

Growing or shrinking by a distance threshold is a dilation/erosion with a disc (an
ellipse aligned with the crop rows when they are detected, at any angle: distances
along the row count ``along_row_weight`` times, so plants close the gap along the row
first). Choosing the threshold by rank (the k nearest pixels) hits the requested pixel
count exactly.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import distance_transform_edt


def row_direction(veg: np.ndarray, max_size: int = 512, min_share: float = 0.04) -> tuple[float, float] | None:
    """Unit vector (drow, dcol) along the crop rows, or None when no row pattern stands out.

    Rows are a periodic stripe pattern: the vegetation mask's power spectrum (Hann
    window, central crop ≤ ``max_size``²) has a peak at the row frequency, whose wave
    vector is perpendicular to the rows. The peak (with its 8 neighbours) must hold at
    least ``min_share`` of the power above 4 cycles per window (random weeds: ~0.001;
    drilled rows: 0.05–0.6). Periods of 2 px up to a quarter of the window are considered.
    """
    h, w = veg.shape
    r0, c0 = max(0, (h - max_size) // 2), max(0, (w - max_size) // 2)
    m = veg[r0:r0 + max_size, c0:c0 + max_size].astype(np.float32)
    if min(m.shape) < 16 or m.std() == 0:
        return None
    m -= m.mean()
    m *= (np.hanning(m.shape[0])[:, None] * np.hanning(m.shape[1])[None, :]).astype(np.float32)
    power = np.abs(np.fft.rfft2(m)) ** 2
    fr = np.fft.fftfreq(m.shape[0])[:, None]
    fc = np.fft.rfftfreq(m.shape[1])[None, :]
    power[np.hypot(fr, fc) < 4.0 / min(m.shape)] = 0.0
    total = power.sum()
    if total <= 0:
        return None
    i, j = np.unravel_index(int(np.argmax(power)), power.shape)
    rows = [(i + d) % power.shape[0] for d in (-1, 0, 1)]
    cols = [c for c in (j - 1, j, j + 1) if 0 <= c < power.shape[1]]
    share = power[np.ix_(rows, cols)].sum() / total
    if share < min_share:
        return None
    kr, kc = float(fr[i, 0]), float(fc[0, j])
    norm = float(np.hypot(kr, kc))
    return (-kc / norm, kr / norm)


def anisotropic_distance(region: np.ndarray, direction: tuple[float, float] | None,
                         along_row_weight: float) -> tuple[np.ndarray, np.ndarray]:
    """Distance of every pixel to ``region`` with steps along the rows counted ``along_row_weight`` times.

    The nearest region pixel is found with the Euclidean feature transform; its offset is
    then measured in the rows' frame, so growth reaches along the row farther than across
    it (an elliptic structure element aligned with the rows). Returns (distance, indices).
    """
    dist, idx = distance_transform_edt(~region, return_indices=True)
    if direction is None or along_row_weight == 1.0:
        return dist, idx
    h, w = region.shape
    dr = np.arange(h, dtype=np.float32)[:, None] - idx[0]
    dc = np.arange(w, dtype=np.float32)[None, :] - idx[1]
    ur, uc = direction
    along = dr * np.float32(ur) + dc * np.float32(uc)
    across = dc * np.float32(ur) - dr * np.float32(uc)
    return np.sqrt((np.float32(along_row_weight) * along) ** 2 + across**2), idx


def nearest_k(distance: np.ndarray, candidates: np.ndarray, k: int, tiebreak: np.ndarray) -> np.ndarray:
    """Boolean mask of the ``k`` candidate pixels with the smallest ``distance + tiebreak``."""
    out = np.zeros(distance.shape, bool)
    flat = np.flatnonzero(candidates)
    if k <= 0 or flat.size == 0:
        return out
    k = min(k, flat.size)
    key = distance.ravel()[flat] + tiebreak.ravel()[flat]
    chosen = flat[np.argpartition(key, k - 1)[:k]]
    out.ravel()[chosen] = True
    return out


def mirrored_source(rows: np.ndarray, cols: np.ndarray, near_r: np.ndarray, near_c: np.ndarray,
                    allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Source = the pixel mirrored across the region boundary (2·nearest − p), when it is ``allowed``.

    New canopy then repeats the leaf texture just inside the plant (not its mixed edge
    pixel smeared outward); exposed soil repeats the soil next to it.
    """
    h, w = allowed.shape
    mr = np.clip(2 * near_r - rows, 0, h - 1)
    mc = np.clip(2 * near_c - cols, 0, w - 1)
    ok = allowed[mr, mc]
    return np.where(ok, mr, near_r), np.where(ok, mc, near_c)


def jittered_source(rr: np.ndarray, cc: np.ndarray, allowed: np.ndarray, rng: np.random.Generator,
                    jitter_px: int) -> tuple[np.ndarray, np.ndarray]:
    """Source pixels (rr, cc) moved by a random offset within ``jitter_px`` when still ``allowed``.

    Copying from a random neighbour of the nearest source pixel carries the local texture
    (soil clods, leaf veins) instead of smearing one value.
    """
    if jitter_px <= 0 or rr.size == 0:
        return rr, cc
    h, w = allowed.shape
    r2 = np.clip(rr + rng.integers(-jitter_px, jitter_px + 1, size=rr.shape), 0, h - 1)
    c2 = np.clip(cc + rng.integers(-jitter_px, jitter_px + 1, size=cc.shape), 0, w - 1)
    ok = allowed[r2, c2]
    return np.where(ok, r2, rr), np.where(ok, c2, cc)
