"""Pure k-space kernels for MR acquisition artefacts (no randomness, no I/O).

All kernels work on real float arrays (2-D slices or 3-D volumes) with ``scipy.fft``
(pocketfft, single precision stays complex64). A k-space modification that depends on
one axis only needs the 1-D transform along that axis: the transforms along the other
axes cancel, which makes Ghosting, Motion and Gibbs cheap on volumes.

``magnitude=True`` returns ``|IFFT|`` (what an MR magnitude image shows); otherwise the
real part (signed data such as CT, where a complex result has no meaning).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.fft as sfft
from scipy import ndimage as ndi


def _finish(z: np.ndarray, magnitude: bool, dtype) -> np.ndarray:
    out = np.abs(z) if magnitude else z.real
    return out.astype(dtype, copy=False)


def ghosting(x: np.ndarray, *, axis: int, num_ghosts: int, intensity: float) -> np.ndarray:
    """Scale every ``num_ghosts``-th phase-encoding line (except the centre) by ``1 − intensity``.

    A comb in k-space of period n is a sum of copies shifted by multiples of FOV/n in the
    image: each ghost has amplitude ``−intensity/n`` of the object (sign lost in magnitude).
    The modulation is symmetric in ±k, so the result stays real.
    """
    spec = sfft.rfft(x, axis=axis)
    k = np.arange(spec.shape[axis])
    hit = (k % int(num_ghosts) == 0) & (k != 0)
    gain = np.where(hit, 1.0 - intensity, 1.0).astype(np.float32)
    shape = [1] * x.ndim
    shape[axis] = len(k)
    spec *= gain.reshape(shape)
    return sfft.irfft(spec, n=x.shape[axis], axis=axis).astype(x.dtype, copy=False)


def truncate(x: np.ndarray, *, axes: Sequence[int], keep_fraction: float) -> np.ndarray:
    """Keep the central ``keep_fraction`` of k-space along each of ``axes`` (zero-filled elsewhere)."""
    out = x
    for axis in axes:
        n = x.shape[axis]
        spec = sfft.rfft(out, axis=axis)
        cutoff = max(1, int(round(keep_fraction * (n // 2))))
        index = [slice(None)] * x.ndim
        index[axis] = slice(cutoff + 1, None)
        spec[tuple(index)] = 0
        out = sfft.irfft(spec, n=n, axis=axis).astype(x.dtype, copy=False)
    return out


def plane_wave(shape: Sequence[int], cycles: Sequence[float], phase: float) -> np.ndarray:
    """``exp(i(2π Σ cycles_a·r_a/N_a + phase))`` built separably (complex64)."""
    wave = np.array(np.exp(1j * phase), dtype=np.complex64)
    for a, (n, c) in enumerate(zip(shape, cycles)):
        vec = np.exp(2j * np.pi * c * np.arange(n) / n).astype(np.complex64)
        wave = np.multiply.outer(wave, vec) if a else wave * vec
    return wave.reshape(tuple(shape))


def spikes(x: np.ndarray, *, positions: Sequence[Sequence[float]], amplitudes: Sequence[float],
           phases: Sequence[float], magnitude: bool) -> np.ndarray:
    """Add bright k-space points (herringbone): a conjugate pair ±k per spike.

    A pair of weight ``A·N/2`` at ±k in the DFT is exactly ``A·cos(2π k·r/N + φ)`` in the
    image (the real-valued/phase-corrected reconstruction of a spike), so no FFT is
    needed; the stripes cross the whole field of view, background included. ``positions``
    are signed frequencies in cycles per field of view, one per spatial axis.
    """
    z = x.astype(np.float32, copy=True)
    for pos, amp, ph in zip(positions, amplitudes, phases):
        z += np.float32(amp) * plane_wave(x.shape, pos, ph).real
    return np.abs(z, out=z).astype(x.dtype, copy=False) if magnitude else z.astype(x.dtype, copy=False)


def rigid_copy(x: np.ndarray, *, angle_deg: float, shift_px: Sequence[float], spacing: Sequence[float]) -> np.ndarray:
    """``x`` rotated in-plane (last two axes, physical mm) about the centre and translated (pixels)."""
    nd = x.ndim
    theta = np.deg2rad(angle_deg)
    rot = np.eye(nd)
    c, s = np.cos(theta), np.sin(theta)
    rot[-2:, -2:] = [[c, -s], [s, c]]
    sp = np.asarray(spacing, dtype=np.float64)
    matrix = np.diag(1.0 / sp) @ rot.T @ np.diag(sp)  # output index → input index
    centre = (np.asarray(x.shape, dtype=np.float64) - 1.0) / 2.0
    offset = centre - matrix @ centre - matrix @ np.asarray(shift_px, dtype=np.float64)
    return ndi.affine_transform(x, matrix, offset=offset, order=1, mode="nearest").astype(x.dtype, copy=False)


def mix_segments(copies: Sequence[np.ndarray], *, axis: int, boundaries: Sequence[float],
                 centre_copy: int, magnitude: bool) -> np.ndarray:
    """Assemble k-space along ``axis`` from ``copies``: segment j (in acquisition order, −k_max → +k_max)
    comes from copy ``order[j]``; the segment holding k = 0 comes from ``copies[centre_copy]``.

    ``boundaries`` are the m−1 sorted fractions in (0, 1) where the object moved.
    """
    n = copies[0].shape[axis]
    edges = [0] + [int(round(b * n)) for b in boundaries] + [n]
    centre = n // 2  # position of k = 0 after fftshift
    holder = next(j for j in range(len(copies)) if edges[j] <= centre < edges[j + 1])
    order = list(range(len(copies)))
    order[holder], order[centre_copy] = order[centre_copy], order[holder]
    shape = [1] * copies[0].ndim
    shape[axis] = n
    out = None
    for j, idx in enumerate(order):
        if edges[j] == edges[j + 1]:
            continue
        sel = np.zeros(n, dtype=np.float32)
        sel[edges[j]: edges[j + 1]] = 1.0
        sel = np.fft.ifftshift(sel).reshape(shape)
        part = sfft.fft(copies[idx], axis=axis) * sel
        out = part if out is None else np.add(out, part, out=out)
    z = sfft.ifft(out, axis=axis)
    return _finish(z, magnitude, copies[0].dtype)
