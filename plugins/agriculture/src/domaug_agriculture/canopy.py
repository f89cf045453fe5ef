"""Pure kernels of canopy-cover change: row detection and morphological grow/shrink by rank.

Growing or shrinking by a distance threshold is a dilation/erosion with a disc (an
ellipse aligned with the crop rows when they are detected, at any angle: distances
along the row count ``along_row_weight`` times, so plants close the gap along the row
first). Choosing the threshold by rank (the k nearest pixels) hits the requested pixel
count exactly.
"""

from __future__ import annotations

import numpy as np


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


def offset_distance(pixels: np.ndarray, nearest: np.ndarray, width: int, direction: tuple[float, float] | None,
                    along_row_weight: float) -> np.ndarray:
    """Distance (float32) from flat pixel indices ``pixels`` to their nearest region pixels ``nearest``.

    The nearest region pixel comes from the Euclidean feature transform
    (:func:`domaug_agriculture._fast.nearest_region_pixel`); its offset is measured in the
    rows' frame with steps along the rows counted ``along_row_weight`` times, so growth
    reaches along the row farther than across it (an elliptic structure element aligned
    with the rows). Without a direction (or weight 1) this is the Euclidean distance.
    """
    dtype = np.int32 if pixels.size == 0 or max(int(pixels.max()), int(nearest.max())) < 2**31 else np.int64
    pixels, nearest = pixels.astype(dtype, copy=False), nearest.astype(dtype, copy=False)
    drow = pixels // dtype(width)
    drow -= nearest // dtype(width)  # (// by a scalar is fast; % and divmod are not)
    dcol = pixels - nearest
    dcol -= drow * dtype(width)
    dr, dc = drow.astype(np.float32), dcol.astype(np.float32)
    if direction is None or along_row_weight == 1.0:
        np.multiply(dr, dr, out=dr)
        np.multiply(dc, dc, out=dc)
    else:
        ur, uc = np.float32(direction[0]), np.float32(direction[1])
        along = dr * ur
        along += dc * uc
        along *= np.float32(along_row_weight)
        dc *= ur
        dr *= uc
        np.subtract(dc, dr, out=dc)  # across
        np.multiply(along, along, out=dr)
        np.multiply(dc, dc, out=dc)
    dr += dc
    return np.sqrt(dr, out=dr)


def nearest_k(distance: np.ndarray, k: int, tiebreak: np.ndarray) -> np.ndarray:
    """Positions (ascending) of the ``k`` entries with the smallest ``distance + tiebreak``."""
    n = distance.size
    if k <= 0 or n == 0:
        return np.zeros(0, np.int64)
    if k >= n:
        return np.arange(n)
    key = np.add(distance, tiebreak, dtype=np.float32)
    mark = np.zeros(n, bool)
    mark[np.argpartition(key, k - 1)[:k]] = True
    return np.flatnonzero(mark)


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
