"""2-D (and in-plane 3-D) convolution of images with small, sparse kernels such as line PSFs.

Half-sample symmetric boundaries, as :mod:`domaug.ops.psf`. Symmetric 1-D kernels go
to :func:`domaug.ops.separable.separable_filter`; otherwise OpenCV's ``filter2D`` (8-bit
kernels large enough for its slow DFT path are filtered in bands of rows), a direct sum
of shifted slices for sparse kernels, or an FFT.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .separable import separable_filter

#: Above this many non-zero taps, convolve() switches from direct (shifted slices) to FFT.
FFT_MIN_TAPS = 64


def convolve(image: np.ndarray, kernel: np.ndarray, spatial_ndim: int, *, integer_out: bool = False) -> np.ndarray:
    """Convolve each channel of ``image`` with a 2-D (or ``spatial_ndim``-D) kernel.

    A 2-D kernel on a volume is applied slice by slice (in-plane). Half-sample
    symmetric boundaries. Kernels with at most :data:`FFT_MIN_TAPS` non-zero taps (line
    PSFs) are applied directly as a sum of shifted slices over cache-sized row blocks
    (pairing point-symmetric taps), larger ones by FFT. Returns a new float32 (or
    float64) array; with ``integer_out=True`` a uint8 input may come back as uint8
    (rounded half-to-even and saturated, as :func:`domaug.dtypes.restore_dtype` would).
    OpenCV's ``filter2D``/``sepFilter2D`` do the work when available.
    """
    dtype = np.float64 if image.dtype == np.float64 else np.float32
    kernel = np.asarray(kernel, dtype=np.float64)
    lead = spatial_ndim - kernel.ndim
    if lead < 0:
        raise ValueError(f"kernel has {kernel.ndim} axes but the image only {spatial_ndim} spatial axes")
    if kernel.ndim == 2 and 1 in kernel.shape and kernel.size % 2 and np.array_equal(kernel.ravel(), kernel.ravel()[::-1]):
        axis = spatial_ndim - (2 if kernel.shape[1] == 1 else 1)   # a symmetric 1-D line
        per_axis: list[np.ndarray | None] = [None] * spatial_ndim
        per_axis[axis] = kernel.ravel()
        return separable_filter(image, per_axis, integer_out=integer_out)
    if kernel.ndim == 2:
        fast = _cv_convolve2d(image, kernel, spatial_ndim, integer_out)
        if fast is not None:
            return fast
    if np.count_nonzero(kernel) <= FFT_MIN_TAPS:
        return _direct_convolve(image, kernel, lead, dtype)
    work = image if image.dtype == dtype else image.astype(dtype)
    k = kernel.astype(dtype).reshape((1,) * lead + kernel.shape + (1,) * (work.ndim - spatial_ndim))
    return _fft_convolve(work, k)


def _cv_convolve2d(image: np.ndarray, kernel: np.ndarray, spatial_ndim: int, integer_out: bool) -> np.ndarray | None:
    """OpenCV ``filter2D`` (true convolution: flipped kernel) in every plane, or None."""
    from . import opencv

    cv2 = opencv.cv2_module()
    if cv2 is None or spatial_ndim not in (2, 3) or opencv.depth_of(image.dtype) is None:
        return None
    plane = image.shape[spatial_ndim - 2:spatial_ndim]
    channels = int(np.prod(image.shape[spatial_ndim:], dtype=np.int64))
    if channels > opencv.MAX_CHANNELS or max(plane) >= 2**31:
        return None
    kernel = np.pad(kernel, [(0, 1 - s % 2) for s in kernel.shape])  # odd: centre at K // 2
    src, ddepth, dtype = _cv_depth(cv2, image, integer_out)
    k = np.ascontiguousarray(kernel[::-1, ::-1], dtype=np.float64 if ddepth == cv2.CV_64F else np.float32)
    return opencv.filter_planes(_cv_plane_filter(cv2, k, ddepth, channels), src, spatial_ndim, dtype)


def _cv_depth(cv2: Any, image: np.ndarray, integer_out: bool) -> tuple[np.ndarray, int, type]:
    """(source, OpenCV output depth, numpy output dtype) of a 2-D filter of ``image``."""
    if image.dtype == np.float64:
        return image, cv2.CV_64F, np.float64
    if image.dtype == np.uint8 and integer_out:
        return image, cv2.CV_8U, np.uint8
    # 8→32-bit and 16-bit 2-D filters have no SIMD path in OpenCV: filter in float32
    return image.astype(np.float32), cv2.CV_32F, np.float32


def _cv_plane_filter(cv2: Any, k: np.ndarray, ddepth: int, channels: int) -> Callable[[np.ndarray], np.ndarray]:
    """The per-plane call: ``filter2D``, or kernel-row bands where OpenCV would switch to its slow DFT."""
    if ddepth == cv2.CV_8U and k.size >= _CV_DFT_TAPS and k.min() >= 0 and channels <= 4:
        return lambda a: _cv_filter8_in_chunks(cv2, a, k)
    return lambda a: cv2.filter2D(a, ddepth, k, borderType=cv2.BORDER_REFLECT)


#: OpenCV filters 8-bit images by DFT once a kernel's box holds this many taps: ~20× slower
#: than its direct path for sparse kernels such as line PSFs (whose cost grows with non-zeros).
_CV_DFT_TAPS = 130
#: Fixed-point scale of the chunk sums: 255 · 128 fits int16, each chunk rounds by ≤ 1/256 step.
_CHUNK_SCALE = 128.0


def _cv_filter8_in_chunks(cv2: Any, src: np.ndarray, k: np.ndarray) -> np.ndarray:
    """8-bit ``filter2D`` with a big non-negative kernel as bands of kernel rows under the DFT size.

    Each band is correlated on a reflect-padded copy (anchor on its first row) into int16
    at ×128, the bands are summed and scaled back with rounding: within ±1 of the float
    result (ties may round the other way), with the direct path's cost per non-zero tap.
    """
    kh, kw = k.shape
    ry, rx = kh // 2, kw // 2
    h, w = src.shape[:2]
    padded = cv2.copyMakeBorder(src, ry, ry, rx, rx, cv2.BORDER_REFLECT)
    band = max(1, (_CV_DFT_TAPS - 1) // kw)
    total = None
    for r0 in range(0, kh, band):
        part = k[r0:r0 + band]
        if not part.any():
            continue
        res = cv2.filter2D(padded, cv2.CV_16S, np.ascontiguousarray(part * _CHUNK_SCALE), anchor=(rx, 0),
                           borderType=cv2.BORDER_REFLECT)[r0:r0 + h, rx:rx + w]
        total = np.ascontiguousarray(res) if total is None else cv2.add(total, res)
    if total is None:
        return np.zeros_like(src)
    return cv2.convertScaleAbs(total, alpha=1.0 / _CHUNK_SCALE).reshape(src.shape)


def _direct_convolve(image: np.ndarray, kernel: np.ndarray, lead: int, dtype) -> np.ndarray:
    """Sparse direct convolution over row blocks; the kernel covers axes lead..lead+k.ndim."""
    # odd sizes with the ndimage centre convention (centre at K // 2)
    kernel = np.pad(kernel, [(0, 1 - s % 2) for s in kernel.shape])
    radii = [s // 2 for s in kernel.shape]
    full_r = [0] * lead + radii + [0] * (image.ndim - lead - kernel.ndim)
    padded = np.pad(image, [(r, r) for r in full_r], mode="symmetric")
    # convolution reads x[i - offset]; pair taps at ±offset with equal weights
    taps = {tuple(r - i for i, r in zip(idx, radii)): float(kernel[idx]) for idx in zip(*np.nonzero(kernel))}
    centre = taps.pop((0,) * kernel.ndim, 0.0)
    pairs, singles = [], []
    for off, w in sorted(taps.items()):
        neg = tuple(-o for o in off)
        if off < neg and taps.get(neg) == w:
            pairs.append((off, w))
        elif not (neg < off and taps.get(neg) == w):
            singles.append((off, w))
    out = np.empty(image.shape, dtype=dtype)
    n0, r0 = image.shape[0], full_r[0]
    row_bytes = max(1, padded[0].size * np.dtype(dtype).itemsize)
    block = max(4 * r0, 8, (1 << 20) // row_bytes)

    def view(blk: np.ndarray, off: tuple, n: int) -> np.ndarray:
        index = []
        for axis in range(image.ndim):
            o = off[axis - lead] if lead <= axis < lead + len(off) else 0
            r = full_r[axis]
            size = n if axis == 0 else image.shape[axis]
            index.append(slice(r + o, r + o + size))
        return blk[tuple(index)]

    zero = (0,) * kernel.ndim

    def run(start: int) -> None:
        stop = min(start + block, n0)
        n = stop - start
        blk = padded[start:stop + 2 * r0].astype(dtype)
        o = out[start:stop]
        np.multiply(view(blk, zero, n), dtype(centre), out=o)
        tmp = np.empty_like(o)
        for off, w in pairs:
            np.add(view(blk, off, n), view(blk, tuple(-x for x in off), n), out=tmp)
            tmp *= dtype(w)
            o += tmp
        for off, w in singles:
            np.multiply(view(blk, off, n), dtype(w), out=tmp)
            o += tmp

    from .parallel import parallel_for

    parallel_for(run, range(0, n0, block), work=image.size * max(1, len(pairs) + len(singles)))
    return out


def _fft_convolve(work: np.ndarray, k: np.ndarray) -> np.ndarray:
    from scipy import fft

    # odd sizes keep the ndimage centre convention (centre at K // 2) after padding
    k = np.pad(k, [(0, 1 - s % 2) if s > 1 else (0, 0) for s in k.shape])
    axes = [a for a in range(k.ndim) if k.shape[a] > 1]
    pads = [(0, 0)] * work.ndim
    for a in axes:
        pads[a] = (k.shape[a] // 2, k.shape[a] // 2)
    padded = np.pad(work, pads, mode="symmetric")
    fshape = [fft.next_fast_len(padded.shape[a], real=True) for a in axes]
    spec = fft.rfftn(padded, s=fshape, axes=axes, workers=-1)
    spec *= fft.rfftn(k, s=fshape, axes=axes, workers=-1)
    full = fft.irfftn(spec, s=fshape, axes=axes, workers=-1)
    index = [slice(None)] * work.ndim
    for a in axes:
        index[a] = slice(k.shape[a] - 1, k.shape[a] - 1 + work.shape[a])
    return np.ascontiguousarray(full[tuple(index)], dtype=work.dtype)
