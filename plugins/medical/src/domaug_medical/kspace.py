"""Pure k-space kernels for MR acquisition artefacts (no randomness, no I/O).

All kernels work on real float arrays (2-D slices or 3-D volumes) with ``scipy.fft``
(pocketfft, single precision stays complex64). A k-space modification that depends on
one axis only needs the 1-D transform along that axis: the transforms along the other
axes cancel, which makes Ghosting, Motion and Gibbs cheap on volumes.

``magnitude=True`` returns ``|IFFT|`` (what an MR magnitude image shows); otherwise the
real part (signed data such as CT, where a complex result has no meaning).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from domaug.kit import cv2_module, lazy_module

sfft = lazy_module("scipy.fft")
ndi = lazy_module("scipy.ndimage")


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


def truncate(x: np.ndarray, *, axes: Sequence[int], keep_fraction: float, periodic: bool = True) -> np.ndarray:
    """Keep the central ``keep_fraction`` of k-space along each of ``axes`` (zero-filled elsewhere).

    ``periodic=True``: the field of view is the period (an MR acquisition: an object touching
    one border rings at the other). ``False``: the array is first mirrored (``abcd|dcba``)
    so its ends do not meet as a step — the same cutoff in cycles per pixel, ringing only
    at edges inside the image (a crop, or data that never was k-space).
    """
    out = x
    for axis in axes:
        n = x.shape[axis]
        work = out if periodic else np.concatenate([out, np.flip(out, axis=axis)], axis=axis)
        m = work.shape[axis]
        spec = sfft.rfft(work, axis=axis)
        cutoff = max(1, int(round(keep_fraction * (m // 2))))
        index = [slice(None)] * x.ndim
        index[axis] = slice(cutoff + 1, None)
        spec[tuple(index)] = 0
        out = sfft.irfft(spec, n=m, axis=axis).astype(x.dtype, copy=False)
        if not periodic:
            index[axis] = slice(0, n)
            out = np.ascontiguousarray(out[tuple(index)])
    return out


def add_cosine(out: np.ndarray, cycles: Sequence[float], phase: float, amplitude: float) -> np.ndarray:
    """``out += A·cos(2π Σ cycles_a·r_a/N_a + φ)`` in place, separably.

    ``cos(α + β) = cos α cos β − sin α sin β`` with α from the leading axes (a small
    complex128 table) and β from the last axis: two broadcast products over the array,
    no complex array of its size.
    """
    shape = out.shape
    lead = np.array(np.exp(1j * phase) * amplitude, dtype=np.complex128)
    for n, c in zip(shape[:-1], cycles[:-1]):
        lead = np.multiply.outer(lead, np.exp(2j * np.pi * c * np.arange(n) / n))
    last = 2.0 * np.pi * cycles[-1] * np.arange(shape[-1]) / shape[-1]
    dt = out.dtype.type
    tmp = np.empty(shape, out.dtype)
    np.multiply(lead.real.astype(dt)[..., None], np.cos(last).astype(dt), out=tmp)
    out += tmp
    np.multiply(lead.imag.astype(dt)[..., None], np.sin(last).astype(dt), out=tmp)
    out -= tmp
    return out


def spikes(x: np.ndarray, *, positions: Sequence[Sequence[float]], amplitudes: Sequence[float],
           phases: Sequence[float], magnitude: bool, inplace: bool = False) -> np.ndarray:
    """Add bright k-space points (herringbone): a conjugate pair ±k per spike.

    A pair of weight ``A·N/2`` at ±k in the DFT is exactly ``A·cos(2π k·r/N + φ)`` in the
    image (the real-valued/phase-corrected reconstruction of a spike), so no FFT is
    needed; the stripes cross the whole field of view, background included. ``positions``
    are signed frequencies in cycles per field of view, one per spatial axis.
    ``inplace=True`` reuses ``x`` (a float32 working copy the caller owns).
    """
    z = x if inplace and x.dtype == np.float32 else x.astype(np.float32, copy=True)
    for pos, amp, ph in zip(positions, amplitudes, phases):
        add_cosine(z, pos, ph, amp)
    if magnitude:
        np.abs(z, out=z)
    return z.astype(x.dtype, copy=False)


def _cv_plane_ok(x: np.ndarray) -> bool:
    """OpenCV may warp the planes of ``x``: float32 (1/32-pixel positions, as in
    :mod:`domaug.ops.resample`), sides below OpenCV's int16 coordinate limit."""
    return x.dtype == np.float32 and max(x.shape[-2:]) < 32000 and min(x.shape[-2:]) > 0


def rigid_copy(x: np.ndarray, *, angle_deg: float, shift_px: Sequence[float], spacing: Sequence[float]) -> np.ndarray:
    """``x`` rotated in-plane (last two axes, physical mm) about the centre, then translated (pixels).

    ``out(q) = x(M(q − shift − c) + c)`` with ``M`` the in-plane rotation in index units;
    linear interpolation, edges replicated (``mode="nearest"``). The in-plane part is one
    2-D affine warp shared by every slice (OpenCV ``warpAffine`` for float32, else scipy);
    the depth shift of a volume is a two-tap linear blend of slices (done before the
    warp, which commutes with it).
    """
    nd = x.ndim
    theta = np.deg2rad(angle_deg)
    c, s = np.cos(theta), np.sin(theta)
    sp = np.asarray(spacing, dtype=np.float64)[-2:]
    a = np.diag(1.0 / sp) @ np.array([[c, s], [-s, c]]) @ np.diag(sp)  # output index → input index
    centre = (np.asarray(x.shape[-2:], dtype=np.float64) - 1.0) / 2.0
    shift = np.asarray(shift_px, dtype=np.float64)
    offset = centre - a @ centre - a @ shift[-2:]
    depth = float(shift[0]) if nd == 3 else 0.0
    identity = np.array_equal(a, np.eye(2)) and not offset.any()
    if identity and depth == 0.0:
        return x.copy()
    cv2 = None
    if _cv_plane_ok(x):
        cv2 = cv2_module()
    if cv2 is None:
        y = _shift_depth(x, depth) if nd == 3 else x
        if identity:
            return y.copy() if y is x else y
        matrix = np.eye(nd)
        matrix[-2:, -2:] = a
        off = np.zeros(nd)
        off[-2:] = offset
        return ndi.affine_transform(y, matrix, offset=off, order=1, mode="nearest").astype(x.dtype, copy=False)
    m = np.array([[a[1, 1], a[1, 0], offset[1]], [a[0, 1], a[0, 0], offset[0]]], dtype=np.float64)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    size = (x.shape[-1], x.shape[-2])
    if nd == 2:
        return cv2.warpAffine(np.ascontiguousarray(x), m, size, flags=flags, borderMode=cv2.BORDER_REPLICATE)
    out = np.empty(x.shape, x.dtype)
    taps = _depth_taps(x.shape[0], depth)
    blend = np.empty(x.shape[1:], x.dtype)
    for i, (i0, i1, w1) in enumerate(taps):
        src = np.ascontiguousarray(x[i0])
        if w1:
            np.multiply(x[i0], x.dtype.type(1.0 - w1), out=blend)
            blend += x.dtype.type(w1) * x[i1]
            src = blend
        if identity:
            out[i] = src
        else:
            cv2.warpAffine(src, m, size, dst=out[i], flags=flags, borderMode=cv2.BORDER_REPLICATE)
    return out


def _depth_taps(n: int, shift: float) -> list[tuple[int, int, float]]:
    """Per output slice i of a shift by ``shift`` slices: ``(i0, i1, w1)``, out = (1 − w1)·x[i0] + w1·x[i1]."""
    base = int(np.floor(-shift))
    w1 = float(-shift - base)
    return [(min(max(i + base, 0), n - 1), min(max(i + base + 1, 0), n - 1), w1) for i in range(n)]


def _shift_depth(x: np.ndarray, shift: float) -> np.ndarray:
    """``out[i] = x(i − shift)`` along axis 0, linear, edges replicated."""
    if shift == 0.0:
        return x
    taps = _depth_taps(x.shape[0], shift)
    out = np.take(x, [t[0] for t in taps], axis=0)
    w1 = taps[0][2]
    if w1:
        out *= x.dtype.type(1.0 - w1)
        out += x.dtype.type(w1) * np.take(x, [t[1] for t in taps], axis=0)
    return out


def phase_ramp(k: np.ndarray, shift_px: float, n: int, dtype) -> np.ndarray:
    """``exp(−2πi·k·shift/n)``: the DFT of a signal shifted by ``shift_px`` samples (Fourier shift theorem)."""
    return np.exp(-2j * np.pi * k * (float(shift_px) / n)).astype(dtype)


def mix_segments(copies: Sequence[np.ndarray | Callable[[], np.ndarray]], *, axis: int, boundaries: Sequence[float],
                 centre_copy: int, magnitude: bool, phase_shifts: Sequence[float] | None = None) -> np.ndarray:
    """Assemble k-space along ``axis`` from ``copies``: segment j (in acquisition order, −k_max → +k_max)
    comes from copy ``order[j]``; the segment holding k = 0 comes from ``copies[centre_copy]``.

    ``boundaries`` are the m−1 sorted fractions in (0, 1) where the object moved.
    ``phase_shifts[i]`` (pixels along ``axis``) moves copy i by a linear phase ramp on its
    segment: exact for any shift, periodic (the field of view wraps along the phase axis).
    Each copy is real, so one ``rfft`` gives its lines k ≥ 0 and, conjugated, −k;
    only the mixed spectrum needs a complex inverse FFT. ``copies[0]`` is an array; the
    others may be zero-argument callables that make the copy when its segment is filled
    (so that one moved copy at a time is alive).
    """
    x0 = copies[0]
    n = x0.shape[axis]
    shifts = list(phase_shifts) if phase_shifts is not None else [0.0] * len(copies)
    edges = [0] + [int(round(b * n)) for b in boundaries] + [n]
    h = n // 2  # position of k = 0 in acquisition (fftshift) order
    holder = next(j for j in range(len(copies)) if edges[j] <= h < edges[j + 1])
    order = list(range(len(copies)))
    order[holder], order[centre_copy] = order[centre_copy], order[holder]
    ctype = np.complex128 if x0.dtype == np.float64 else np.complex64
    spec = np.empty(x0.shape, ctype)
    bshape = [1] * x0.ndim
    bshape[axis] = -1

    def at(sl):
        index = [slice(None)] * x0.ndim
        index[axis] = sl
        return tuple(index)

    for j, idx in enumerate(order):
        k_lo, k_hi = edges[j] - h, edges[j + 1] - 1 - h  # signed frequencies, inclusive
        if k_lo > k_hi:
            continue
        copy = copies[idx]() if callable(copies[idx]) else copies[idx]
        half = sfft.rfft(copy, axis=axis, workers=1)
        del copy
        for a, b, neg in ((max(k_lo, 0), k_hi, False), (k_lo, min(k_hi, -1), True)):
            if a > b:
                continue
            if neg:  # X(−k) = conj(X(k)) for real data; lines n+a … n+b hold k = a … b
                dst = spec[at(slice(n + a, n + b + 1))]
                np.conjugate(half[at(slice(-a, -b - 1, -1))], out=dst)
            else:
                dst = spec[at(slice(a, b + 1))]
                dst[...] = half[at(slice(a, b + 1))]
            if shifts[idx]:
                dst *= phase_ramp(np.arange(a, b + 1), shifts[idx], n, ctype).reshape(bshape)
    z = sfft.ifft(spec, axis=axis, overwrite_x=True, workers=1)
    return _finish(z, magnitude, x0.dtype)
