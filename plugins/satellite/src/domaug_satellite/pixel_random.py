"""Counter-based random numbers keyed by absolute pixel coordinates (window-consistent).

Every value is a pure function of ``(seed, absolute row, absolute position along the
row)``, so a raster gives the same numbers whole or in windows (``offset`` = absolute
(row0, col0)), which a sequential generator cannot.

Generator: a row key ``k_r = mix(r·K_r + s)`` per row and a column key ``k_p = mix(p·K_p + s')``
per hash column are combined as ``h = mix(k_r ⊕ k_p)`` (``mix`` = the splitmix64
finaliser, Steele et al., OOPSLA 2014): one broadcast xor and eight in-place uint64 passes
per 64 random bits. Normals: Box–Muller (Box & Muller, Ann. Math. Stat. 29, 1958) in
float32 on 32-bit uniforms (tails to 6.8σ). Along a row, positions are grouped in blocks
of ``2·K`` (:data:`BLOCK`): the ``K`` hashes of a block, read as ``2K`` uint32 words ``w``,
give the pairs ``(u = w[j], θ = w[K + j])`` whose cosine branch lands at position
``j`` and sine branch at ``K + j`` of the block, so every pass is contiguous.

A multi-band pixel (H×W×C) is one row position per band: ``q = col·C + band``.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from domaug.kit import block_rows, row_blocks

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_G = np.uint64(0x9E3779B97F4A7C15)
_K_ROW = np.uint64(0xD1B54A32D192ED03)
_K_COL = np.uint64(0xABC98388FB8FAC03)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)

#: hashes per block: a block of 2·BLOCK positions along a row takes BLOCK 64-bit hashes
BLOCK = 256


def _mix(h: np.ndarray, tmp: np.ndarray | None = None) -> np.ndarray:
    """splitmix64 finaliser, in place on ``h`` (uint64, wrapping)."""
    if tmp is None:
        tmp = np.empty_like(h)
    np.right_shift(h, _S30, out=tmp)
    h ^= tmp
    h *= _M1
    np.right_shift(h, _S27, out=tmp)
    h ^= tmp
    h *= _M2
    np.right_shift(h, _S31, out=tmp)
    h ^= tmp
    return h


def _scalar_key(seed: int, salt: int) -> np.uint64:
    a = np.array([(int(seed) ^ salt) & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64)
    with np.errstate(over="ignore"):
        a += _G
        return _mix(_mix(a))[0]


def _keys(start: int, n: int, mult: np.uint64, key: np.uint64) -> np.ndarray:
    """``mix(i·mult + key)`` for the absolute indices ``start … start+n−1``."""
    idx = np.arange(start, start + n, dtype=np.int64).view(np.uint64)
    with np.errstate(over="ignore"):
        idx *= mult
        idx += key
    return _mix(idx)


def _row_keys(seed: int, row0: int, nrows: int) -> np.ndarray:
    return _keys(row0, nrows, _K_ROW, _scalar_key(seed, 0x5EED0001))


def _col_keys(seed: int, p0: int, n: int) -> np.ndarray:
    return _keys(p0, n, _K_COL, _scalar_key(seed, 0x5EED0002))


def _grid_hash(kr: np.ndarray, kp: np.ndarray, out: np.ndarray, tmp: np.ndarray) -> np.ndarray:
    """``mix(kr[:, None] ⊕ kp[None, :])`` into ``out`` (rows × len(kp), uint64)."""
    np.bitwise_xor(kr[:, None], kp[None, :], out=out)
    return _mix(out, tmp)


class NormalSource:
    """Standard normals (float32) of one seed on rows × row positions (``q = col·bands + band``),
    produced a few rows at a time into reused buffers (cache-resident, no page faults).

    ``rows(r, m)`` returns the normals of absolute rows ``row0 + r … row0 + r + m − 1`` at
    positions ``q0 … q0 + nq − 1`` (a view into a buffer that the next call overwrites).
    """

    def __init__(self, seed: int, row0: int, nrows: int, q0: int, nq: int, max_rows: int) -> None:
        two_k = 2 * BLOCK
        g0, g1 = q0 // two_k, (q0 + max(nq, 1) - 1) // two_k + 1
        self.ng, self.first, self.nq, self.row0 = g1 - g0, q0 - g0 * two_k, nq, row0
        self.kp = _col_keys(seed, g0 * BLOCK, self.ng * BLOCK)
        self.kr = _row_keys(seed, row0, nrows)
        m = max(1, max_rows)
        self.h = np.empty((m, self.ng * BLOCK), np.uint64)
        self.tmp = np.empty_like(self.h)
        self.rad = np.empty((m, self.ng, BLOCK), np.float32)
        self.theta = np.empty_like(self.rad)
        self.block = np.empty((m, self.ng, 2, BLOCK), np.float32)

    def rows(self, r: int, m: int) -> np.ndarray:
        h, tmp = self.h[:m], self.tmp[:m]
        _grid_hash(self.kr[r:r + m], self.kp, h, tmp)
        words = h.astype("<u8", copy=False).view("<u4").reshape(m, self.ng, 2 * BLOCK)
        rad, theta, block = self.rad[:m], self.theta[:m], self.block[:m]
        np.copyto(rad, words[:, :, :BLOCK], casting="unsafe")
        rad *= np.float32(2.0 ** -32)
        rad += np.float32(2.0 ** -33)  # u ∈ (0, 1]: never log(0)
        np.log(rad, out=rad)
        rad *= np.float32(-2.0)
        np.sqrt(rad, out=rad)
        np.copyto(theta, words[:, :, BLOCK:], casting="unsafe")
        theta *= np.float32(2.0 * math.pi * 2.0 ** -32)
        np.cos(theta, out=block[:, :, 0])
        block[:, :, 0] *= rad
        np.sin(theta, out=block[:, :, 1])
        block[:, :, 1] *= rad
        return block.reshape(m, -1)[:, self.first:self.first + self.nq]


def normal_rows(seed: int, row0: int, nrows: int, q0: int, nq: int,
                out: np.ndarray | None = None) -> np.ndarray:
    """Standard normals (float32, ``nrows × nq``) for absolute rows ``row0…`` and row
    positions ``q0…q0+nq−1`` (``q = col·bands + band``); ``out`` receives them if given."""
    if out is None:
        out = np.empty((nrows, nq), np.float32)
    if nrows == 0 or nq == 0:
        return out
    src = NormalSource(seed, row0, nrows, q0, nq, block_rows(nrows, nq))
    for r, r1 in row_blocks(0, nrows, nq):
        out[r:r1] = src.rows(r, r1 - r)
    return out


def _grid(shape: Sequence[int], offset: Sequence[int] | None) -> tuple[int, int, int, int]:
    """(row0, nrows, q0, nq) of an up-to-3-D array at absolute ``offset``."""
    shape = tuple(int(s) for s in shape)
    off = tuple(int(o) for o in (offset or (0,) * len(shape)))
    off = off + (0,) * (len(shape) - len(off))
    if len(shape) == 1:
        return 0, 1, off[0], shape[0]
    if len(shape) == 2:
        return off[0], shape[0], off[1], shape[1]
    if len(shape) == 3:
        if off[2] != 0:
            raise ValueError(f"the last (band) axis of a 3-D shape is taken whole; offset {off} must end in 0")
        return off[0], shape[0], off[1] * shape[2], shape[1] * shape[2]
    raise ValueError(f"pixel random numbers support 1-D to 3-D shapes, got {shape}")


def pixel_normals(seed: int, shape: Sequence[int], offset: Sequence[int] | None = None,
                  dtype=np.float32) -> np.ndarray:
    """Standard normal per element of ``shape`` (up to 3 axes: rows, cols, bands), keyed by
    absolute coordinates (``offset`` of the first element; the band axis is taken whole)."""
    shape = tuple(int(s) for s in shape)
    row0, nrows, q0, nq = _grid(shape, offset)
    return normal_rows(seed, row0, nrows, q0, nq).reshape(shape).astype(dtype, copy=False)


def pixel_hash(seed: int, shape: Sequence[int], offset: Sequence[int] | None = None) -> np.ndarray:
    """A uint64 hash per element of ``shape`` (up to 3 axes) at absolute ``offset``."""
    shape = tuple(int(s) for s in shape)
    row0, nrows, q0, nq = _grid(shape, offset)
    h = np.empty((nrows, nq), np.uint64)
    _grid_hash(_row_keys(seed ^ 0x7A11, row0, nrows), _col_keys(seed ^ 0x7A11, q0, nq), h, np.empty_like(h))
    return h.reshape(shape)


def pixel_uniform(seed: int, shape: Sequence[int], offset: Sequence[int] | None = None) -> np.ndarray:
    """Uniform [0, 1) float64 per element, keyed by absolute coordinates."""
    h = pixel_hash(seed, shape, offset)
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)
