"""Samplers: where each output pixel centre falls in the input (see :mod:`domaug.ops.resample`).

An :class:`AffineSampler` holds an output→input matrix (Affine, Resize); a
:class:`CoordSampler` holds a dense coordinate array (ElasticDeformation). Both map pixel
centres with the edge convention of :mod:`domaug.ops.geometry` (index ``i = x - 0.5``)
and sample channels with scipy or, when every pixel is valid, OpenCV.
"""

from __future__ import annotations

import itertools
import math
from functools import cached_property
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Sequence

import numpy as np

from ..lazy import lazy_module
from .opencv import cv2_module
from ._resample_cv import (
    CV_MAX_SIDE,
    cv_blur,
    cv_channels,
    cv_dtype_ok,
    cv_size_ok,
    sample_volume,
)

ndi = lazy_module("scipy.ndimage")

EPS = 1e-6
_THREAD_MIN_POINTS = 1 << 19
def index_affine(out_to_in: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Turn an edge-coordinate out→in map into ``(matrix, offset)`` on array indices.

    With ``i = x - 0.5`` on both sides: ``i_in = A i_out + (A·½ + t − ½)``.
    """
    n = out_to_in.shape[0] - 1
    a = np.asarray(out_to_in[:n, :n], dtype=np.float64)
    t = np.asarray(out_to_in[:n, n], dtype=np.float64)
    return a, a @ np.full(n, 0.5) + t - 0.5


def scale_matrix(in_shape: Sequence[int], out_shape: Sequence[int]) -> np.ndarray:
    """Out→in map of resizing a grid so that its outer edges (its bounds) stay put."""
    n = len(in_shape)
    m = np.zeros((n + 1, n + 1))
    m.flat[:: n + 2] = [*(i / o for i, o in zip(in_shape, out_shape)), 1.0]  # the diagonal
    return m


def antialias_sigma(out_to_in: np.ndarray) -> list[float]:
    """Gaussian prefilter sigma per input axis, in input pixels, for a map that may shrink.

    The stretch along input axis ``k`` is the norm of row ``k`` of the linear part
    (input pixels per output pixel); sigma is ``max(0, (stretch - 1) / 2)``.
    """
    n = out_to_in.shape[0] - 1
    rows = np.asarray(out_to_in[:n, :n], dtype=float).tolist()
    stretch = [math.sqrt(sum(v * v for v in row)) for row in rows]
    return [float(max(0.0, (s - 1.0) / 2.0)) for s in stretch]


class AffineSampler:
    """Sample an input grid of ``in_shape`` at the pixel centres of ``out_shape`` through a matrix."""

    def __init__(self, out_to_in: np.ndarray, in_shape: Sequence[int], out_shape: Sequence[int]) -> None:
        self.out_to_in = np.asarray(out_to_in, dtype=np.float64)
        self.in_shape = tuple(map(int, in_shape))
        self.out_shape = tuple(map(int, out_shape))
        self._inside: np.ndarray | None = None
        self._all_inside: bool | None = None

    @classmethod
    def rescaling(cls, in_shape: Sequence[int], out_shape: Sequence[int]) -> "AffineSampler":
        """The edge-aligned rescaling of ``in_shape`` to ``out_shape`` (bounds kept), known as such."""
        sampler = cls(scale_matrix(in_shape, out_shape), in_shape, out_shape)
        sampler.__dict__["is_rescale"] = True  # by construction (skips the check)
        return sampler

    # Derived lazily: a Resize integrated by area never needs most of them.
    @cached_property
    def _index_map(self) -> tuple[np.ndarray, np.ndarray]:
        return index_affine(self.out_to_in)

    @property
    def matrix(self) -> np.ndarray:
        return self._index_map[0]

    @property
    def offset(self) -> np.ndarray:
        return self._index_map[1]

    @cached_property
    def _diagonal(self) -> bool:
        a = self.out_to_in[:-1, :-1]
        return bool(np.count_nonzero(a - np.diag(np.diagonal(a))) == 0)

    @cached_property
    def _plane(self) -> np.ndarray | None:
        return self._plane_matrix()

    @cached_property
    def _resize(self) -> bool:
        """An edge-aligned rescaling of rows/columns OpenCV can take (what cv2.resize computes)."""
        n = len(self.out_shape)
        return (n in (2, 3) and self.is_rescale and (n == 2 or self.in_shape[0] == self.out_shape[0])
                and max(self.in_shape[-2:] + self.out_shape[-2:]) < CV_MAX_SIDE)

    def _plane_matrix(self) -> np.ndarray | None:
        """OpenCV's 2×3 dst→src matrix (x = column, y = row) when the map acts on rows/columns only."""
        n = len(self.out_shape)
        if n not in (2, 3) or max(self.in_shape[-2:] + self.out_shape[-2:]) >= CV_MAX_SIDE:
            return None
        a, o = self.matrix, self.offset
        if n == 3:
            if (self.in_shape[0] != self.out_shape[0] or a[0, 0] != 1 or np.any(a[0, 1:] != 0)
                    or np.any(a[1:, 0] != 0) or o[0] != 0):
                return None
            a, o = a[1:, 1:], o[1:]
        return np.array([[a[1, 1], a[1, 0], o[1]], [a[0, 1], a[0, 0], o[0]]], dtype=np.float64)

    def sample_native(self, array: np.ndarray, order: int, spatial_ndim: int,
                      sigma: Sequence[float] | None = None, extend: bool = False,
                      border_value: float = 0.0) -> np.ndarray | None:
        """Warp ``array`` (spatial axes first, channels last) in its own dtype with OpenCV.

        Edges are replicated (as ``mode="nearest"``); pixels whose centre falls outside the
        input are *not* filled here (see :attr:`inside`) — unless ``extend``, they hold
        arbitrary values: ``border_value`` beyond :meth:`outside_band`, edge values or a mix
        inside it. ``extend=True`` replicates the edge everywhere (fields).
        None when OpenCV cannot do it.
        """
        cv2 = cv2_module()
        if cv2 is None or not self._cv_takes(array, order, spatial_ndim):
            return None
        if sigma is not None and any(s > 0 for s in sigma):
            if order == 0 or (spatial_ndim == 3 and sigma[0] > 0):
                return None
            array = cv_blur(cv2, array, spatial_ndim, sigma)
        flag = self._cv_resize_flag(cv2, order)
        if flag is not None:
            h, w = self.out_shape[-2:]
            return cv_channels(array, spatial_ndim, lambda a: cv2.resize(a, (w, h), interpolation=flag))
        return self._cv_warp_affine(cv2, array, order, spatial_ndim, extend, border_value)

    def _cv_takes(self, array: np.ndarray, order: int, spatial_ndim: int) -> bool:
        """OpenCV can warp ``array``: a map on rows/columns, a dtype and size it takes."""
        if spatial_ndim != len(self.out_shape) or array.size == 0:
            return False
        if not self._resize and self._plane is None:
            return False
        return cv_dtype_ok(array.dtype, order) and cv_size_ok(array, spatial_ndim, self.out_shape[-2:])

    def _cv_resize_flag(self, cv2: Any, order: int) -> int | None:
        """``cv2.resize``'s interpolation when the map is a rescaling it computes exactly, else None."""
        if not self._resize:
            return None
        return cv2.INTER_LINEAR if order != 0 else getattr(cv2, "INTER_NEAREST_EXACT", None)

    def _cv_warp_affine(self, cv2: Any, array: np.ndarray, order: int, spatial_ndim: int, extend: bool,
                        border_value: float) -> np.ndarray:
        """``cv2.warpAffine`` through the plane matrix, edges replicated (see :meth:`sample_native`)."""
        h, w = self.out_shape[-2:]
        inter = (cv2.INTER_NEAREST if order == 0 else cv2.INTER_LINEAR) | cv2.WARP_INVERSE_MAP
        if extend:
            m = self._plane
            return cv_channels(array, spatial_ndim, lambda a: cv2.warpAffine(
                a, m, (w, h), flags=inter, borderMode=cv2.BORDER_REPLICATE))
        # Replicate one pixel of border, then let OpenCV's fast constant border handle the
        # rest: samples within a pixel of the edge see replicated values (mode="nearest"),
        # farther ones are outside and get filled by the caller from ``inside``.
        m = self._plane.copy()
        m[:, 2] += 1.0
        return cv_channels(array, spatial_ndim, lambda a: cv2.warpAffine(
            cv2.copyMakeBorder(a, 1, 1, 1, 1, cv2.BORDER_REPLICATE), m, (w, h), flags=inter,
            borderMode=cv2.BORDER_CONSTANT, borderValue=(border_value,) * 4))

    def sample(self, channel: np.ndarray, order: int) -> np.ndarray:
        matrix = np.diag(self.matrix) if self._diagonal else self.matrix
        return ndi.affine_transform(
            channel, matrix, offset=self.offset, output_shape=self.out_shape, order=order,
            mode="nearest", prefilter=order > 1,
        )

    @property
    def all_inside(self) -> bool:
        """Every output pixel centre falls inside the input (checked on the corners: the map is affine)."""
        if self._all_inside is None and self._resize:
            self._all_inside = True  # edge-aligned rescaling: every centre maps inside
        if self._all_inside is None:  # a few corners: plain floats beat numpy here
            matrix, offset = self.matrix.tolist(), self.offset.tolist()
            self._all_inside = all(
                -0.5 - EPS <= o + sum(a * c for a, c in zip(row, corner)) <= n - 0.5 + EPS
                for corner in itertools.product(*[(0.0, float(max(s - 1, 0))) for s in self.out_shape])
                for row, o, n in zip(matrix, offset, self.in_shape))
        return self._all_inside

    @property
    def inside(self) -> np.ndarray:
        """Boolean map: the output pixel centre falls inside the input's extent."""
        if self._inside is None:
            n = len(self.out_shape)
            if self.all_inside:
                self._inside = np.ones(self.out_shape, dtype=bool)
            elif n >= 2:
                self._inside = self._inside_by_rows()
            else:
                grids = np.ogrid[tuple(slice(0, s) for s in self.out_shape)]
                inside = np.ones(self.out_shape, dtype=bool)
                for k in range(n):
                    coord = self.offset[k] + sum(self.matrix[k, j] * grids[j] for j in range(n))
                    inside &= (coord >= -0.5 - EPS) & (coord <= self.in_shape[k] - 0.5 + EPS)
                self._inside = inside
        return self._inside

    def _inside_by_rows(self) -> np.ndarray:
        """``inside`` as one column interval per output line: O(lines) math, one compare pass."""
        start, stop = self._line_intervals(-0.5 - EPS, 0.5 - EPS)
        w = self.out_shape[-1]
        # start <= c < stop  ⇔  (c - start) mod 2^k < stop - start  (one SIMD compare)
        it, ut = (np.int16, np.uint16) if w < 2**15 - 1 else (np.int32, np.uint32)
        cols, start, stop = np.arange(w, dtype=it), start.astype(it), stop.astype(it)
        return (cols - start[..., None]).view(ut) < (stop - start)[..., None].view(ut)

    def _line_intervals(self, low: Any, high_minus_n: Any) -> tuple[np.ndarray, np.ndarray]:
        """Per output line, the columns ``[start, stop)`` whose centres map into ``[low, n_k - high_minus_n]``.

        Each input coordinate is affine in the output column ``c``, so the constraints on
        every input axis give one interval of ``c`` per line (the map is convex).
        ``low``/``high_minus_n`` may be equal-length sequences: then one set of intervals per
        pair, stacked first (one pass of array work for all of them).
        """
        n = len(self.out_shape)
        lines = self.out_shape[:-1]
        pairs = np.shape(low)
        low = np.reshape(low, pairs + (1,) * (n - 1))
        high_minus_n = np.reshape(high_minus_n, pairs + (1,) * (n - 1))
        grids = [np.arange(s, dtype=np.float64).reshape([-1 if i == j else 1 for i in range(n - 1)])
                 for j, s in enumerate(lines)]
        matrix, offset = self.matrix.tolist(), self.offset.tolist()
        lo: Any = -np.inf
        hi: Any = np.inf
        for k in range(n):
            base: Any = offset[k]
            for j in range(n - 1):
                if matrix[k][j] != 0:
                    base = base + matrix[k][j] * grids[j]
            a = matrix[k][n - 1]
            c_min, c_max = low - base, self.in_shape[k] - high_minus_n - base
            if a == 0:
                lo = np.where((c_min <= 0) & (c_max >= 0), lo, np.inf)
            elif a > 0:
                lo, hi = np.maximum(lo, c_min / a), np.minimum(hi, c_max / a)
            else:
                lo, hi = np.maximum(lo, c_max / a), np.minimum(hi, c_min / a)
        # a centre exactly on a bound (up to rounding of the division) counts as inside
        tol = 1e-9
        w = self.out_shape[-1]
        start = np.minimum(np.maximum(np.ceil(np.broadcast_to(lo, pairs + lines) - tol), 0), w).astype(np.int64)
        stop = np.minimum(np.maximum(np.floor(np.broadcast_to(hi, pairs + lines) + tol) + 1, 0), w).astype(np.int64)
        return start, np.maximum(stop, start)

    def outside_band(self, reach_px: float = 2.0) -> np.ndarray:
        """Flat indices of the 2-D output pixels outside the input whose centres fall within
        ``reach_px`` input pixels of its edge (what a replicated 1-pixel border can reach).

        Farther pixels sample only the constant border of a warp; these are the ones a
        caller must still set. Same interval rule as :attr:`inside`.
        """
        if len(self.out_shape) != 2:
            raise ValueError("outside_band is for 2-D grids")
        (s_in, s_out), (e_in, e_out) = self._line_intervals([-0.5 - EPS, -0.5 - reach_px],
                                                             [0.5 - EPS, 0.5 - reach_px])
        s_in = np.clip(s_in, s_out, e_out)
        e_in = np.clip(np.maximum(e_in, s_in), s_out, e_out)
        rows = np.arange(self.out_shape[0], dtype=np.int64) * self.out_shape[1]
        starts = np.concatenate([rows + s_out, rows + e_in])
        lengths = np.concatenate([s_in - s_out, e_out - e_in])
        keep = lengths > 0
        starts, lengths = starts[keep], lengths[keep]
        if not starts.size:
            return np.empty(0, np.int64)
        first = np.cumsum(lengths) - lengths  # where each run begins in the output
        return np.repeat(starts - first, lengths) + np.arange(int(lengths.sum()), dtype=np.int64)

    def prefilter_sigma(self) -> list[float]:
        return antialias_sigma(self.out_to_in)

    @cached_property
    def is_rescale(self) -> bool:
        """The map is a pure edge-aligned rescaling of every axis (Resize), any grid size."""
        n = len(self.in_shape)
        expect = [[0.0] * (n + 1) for _ in range(n + 1)]
        for k in range(n):
            expect[k][k] = self.in_shape[k] / self.out_shape[k]
        expect[n][n] = 1.0
        m = self.out_to_in.tolist()
        return len(m) == n + 1 and all(abs(a - b) <= 1e-12 for row, want in zip(m, expect)
                                       for a, b in zip(row, want))


class CoordSampler:
    """Sample an input grid at explicit array-index coordinates (shape ``(n,) + out_shape``)."""

    def __init__(self, coords: np.ndarray, in_shape: Sequence[int]) -> None:
        self.coords = coords
        self.in_shape = tuple(int(v) for v in in_shape)
        self.out_shape = tuple(coords.shape[1:])
        self._inside: np.ndarray | None = None
        self._maps: dict[int, tuple] = {}

    def _cv_maps(self, cv2: Any, order: int) -> tuple | None:
        """OpenCV remap tables (x = column, y = row), fixed-point for linear, cached per order."""
        if order not in self._maps:
            maps = None
            if len(self.out_shape) == 2 and max(self.in_shape + self.out_shape) < CV_MAX_SIDE:
                lo, hi = float(self.coords.min()), float(self.coords.max())
                if -CV_MAX_SIDE < lo and hi < CV_MAX_SIDE:
                    x = np.ascontiguousarray(self.coords[1], dtype=np.float32)
                    y = np.ascontiguousarray(self.coords[0], dtype=np.float32)
                    maps = (x, y) if order == 0 else cv2.convertMaps(x, y, cv2.CV_16SC2)
            self._maps[order] = maps
        return self._maps[order]

    def sample_native(self, array: np.ndarray, order: int, spatial_ndim: int,
                      sigma: Sequence[float] | None = None) -> np.ndarray | None:
        """Warp ``array`` (channels last) in its own dtype with ``cv2.remap``, or None.

        2-D: one remap (float images keep scipy's exact positions: None). 3-D: see
        :meth:`_sample_volume`.
        """
        cv2 = cv2_module()
        if (cv2 is None or spatial_ndim != len(self.out_shape) or array.size == 0
                or (sigma is not None and any(s > 0 for s in sigma))):
            return None
        if spatial_ndim == 3:
            return sample_volume(cv2, self.coords, self.in_shape, self.out_shape, array, order)
        if (spatial_ndim != 2 or not cv_dtype_ok(array.dtype, order, exact=True)
                or not cv_size_ok(array, 2, self.out_shape)):
            return None
        maps = self._cv_maps(cv2, order)
        if maps is None:
            return None
        flag = cv2.INTER_NEAREST if order == 0 else cv2.INTER_LINEAR
        return cv_channels(array, 2, lambda a: cv2.remap(a, maps[0], maps[1], flag,
                                                          borderMode=cv2.BORDER_REPLICATE))

    def sample(self, channel: np.ndarray, order: int) -> np.ndarray:
        coords = self.coords
        kw = dict(order=order, mode="nearest", prefilter=order > 1)
        if order > 1:
            channel = ndi.spline_filter(channel, order=order, mode="nearest")
            kw["prefilter"] = False
        n0 = coords.shape[1]
        from .parallel import num_threads

        workers = min(4, num_threads())
        if coords[0].size < _THREAD_MIN_POINTS or workers < 2 or n0 < 2:
            return ndi.map_coordinates(channel, coords, **kw)
        # scipy releases the GIL: split along the first output axis (same result, faster).
        bounds = np.linspace(0, n0, workers + 1).astype(int)
        out = np.empty(self.out_shape, dtype=channel.dtype)

        def run(i: int) -> None:
            sl = slice(bounds[i], bounds[i + 1])
            out[sl] = ndi.map_coordinates(channel, coords[:, sl], **kw)

        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(run, range(workers)))
        return out

    @property
    def all_inside(self) -> bool:
        return bool(self.inside.all())

    @property
    def inside(self) -> np.ndarray:
        if self._inside is None:
            inside = np.ones(self.out_shape, dtype=bool)
            for k, n in enumerate(self.in_shape):
                c = self.coords[k]
                inside &= (c >= -0.5 - EPS) & (c <= n - 0.5 + EPS)
            self._inside = inside
        return self._inside

    def prefilter_sigma(self) -> list[float]:
        return [0.0] * len(self.in_shape)
