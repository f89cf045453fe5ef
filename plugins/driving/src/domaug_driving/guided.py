"""Edge-aware upsampling of the coarse scene fields, guided by the frame itself.

The layout, and the transmission built on it, live on a coarse grid (k px cells): bilinear
upsampling draws its edges (the tree line against the sky, a car's outline) as k-px steps that a
veil shows at once (fog turns the sky into airlight, the tree beside it is not). The guided filter
(He, Sun & Tang, ECCV 2010 / TPAMI 2013) fits the field locally as a linear function of the
frame's luminance, q = a·I + b over each window, so that its edges move onto the image's own
edges; computed at half resolution ("fast guided filter", He & Sun 2015) and then bilinearly
upsampled. Box filters only: a few passes over a quarter of the pixels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from domaug.kit import cv2_module

from .scratch import buffer

#: Window radius (coarse cells) of the guided filter's local fit: past the neighbouring cell, so that a
#: cell's edge can move onto the image's.
RADIUS = 2
#: Regularisation ε of the guided filter on an 8-bit-code luminance guide in [0, 1]: edges of
#: contrast below √ε (≈ 0.03, 8 codes) are smoothed over, stronger ones kept.
EPS = 1e-3
#: The fit's coefficients vary slowly: they are fitted on every this-many-th coarse cell (the "fast"
#: guided filter's subsampling, He & Sun 2015) and applied to the half-resolution guide.
FIT_STEP = 1
#: … and on every this-many-th cell when the fit is applied at the target grid itself (``at_shape``: the half
#: grid of Rain and Snow, ≥ 2× finer than the coarse one): the same window in pixels, a third of the cost.
AT_SHAPE_FIT_STEP = 2
#: The upsampled field stays above its coarse minimum over ± this many cells (an edge moves down onto the
#: image's by at most that much: the sky mask stops a cell or two short of the tree line) and below its
#: maximum over ±1 cell (no halo: the sky a cell away from the trees keeps t = 0 exactly).
REACH = 2


def guide_of(frame: np.ndarray, shape: tuple[int, int], name: str = "guided_I") -> np.ndarray:
    """The guide at ``shape`` (float32 in [0, 1], perceptual): the green code of an integer frame (≈ luma, one
    strided read), the square root of a float frame's linear green; nearest-pixel decimated, in the scratch
    buffer ``name``."""
    h, w = shape
    fh, fw = frame.shape[:2]
    if fh % h == 0 and fw % w == 0:
        px = frame[fh // h // 2 :: fh // h, fw // w // 2 :: fw // w]
    else:
        rows = np.minimum((np.arange(h) * fh) // h, fh - 1)
        cols = np.minimum((np.arange(w) * fw) // w, fw - 1)
        px = np.asarray(frame)[rows][:, cols]
    g = px[..., min(1, px.shape[2] - 1)] if px.ndim == 3 else px
    out = buffer(name, shape)
    if np.issubdtype(frame.dtype, np.integer):
        return np.multiply(g, np.float32(1.0 / np.iinfo(frame.dtype).max), out=out, dtype=np.float32)
    np.clip(g, 0.0, 1.0, out=out)
    return np.sqrt(out, out=out)


def _box(a: np.ndarray, r: tuple[int, int], cv2: Any) -> np.ndarray:
    """Mean over a (2·ry+1)×(2·rx+1) window (edges replicated)."""
    ry, rx = r
    if cv2 is not None and max(a.shape) < 32768:
        return cv2.blur(a, (2 * rx + 1, 2 * ry + 1), borderType=cv2.BORDER_REPLICATE)
    from scipy.ndimage import uniform_filter

    return uniform_filter(a, (2 * ry + 1, 2 * rx + 1), mode="nearest")


def fit_coefficients(guide: np.ndarray, p: np.ndarray, radius: int | tuple[int, int], eps: float, cv2: Any,
         weight: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The guided filter's window-averaged coefficients ā, b̄ (He et al. 2013, eq. 7–8): over each window
    a = cov(I, p) / (var(I) + ε), b = p̄ − a·Ī; with ``weight`` only the weighted cells count."""
    r = (radius, radius) if isinstance(radius, int) else tuple(radius)
    I = np.ascontiguousarray(guide, dtype=np.float32)  # noqa: E741 (the paper's symbol)
    p = np.ascontiguousarray(p, dtype=np.float32)
    if weight is None:
        mean = lambda x: _box(x, r, cv2)  # noqa: E731
    else:
        w = np.ascontiguousarray(weight, dtype=np.float32)
        norm = _box(w, r, cv2)
        norm = np.reciprocal(np.maximum(norm, np.float32(1e-6)), out=norm)
        mean = lambda x: np.multiply(_box(np.multiply(x, w), r, cv2), norm)  # noqa: E731
    mean_i, mean_p = mean(I), mean(p)
    cov = mean(np.multiply(I, p))
    cov -= np.multiply(mean_i, mean_p)
    var = mean(np.multiply(I, I))
    var -= np.multiply(mean_i, mean_i)
    var += np.float32(eps)
    a = np.divide(cov, var, out=cov)
    b = np.subtract(mean_p, np.multiply(a, mean_i), out=mean_p)
    return mean(a), mean(b)


def guided_filter(guide: np.ndarray, p: np.ndarray, radius: int | tuple[int, int], eps: float,
                  weight: np.ndarray | None = None) -> np.ndarray:
    """The guided filter of ``p`` (float32 H×W) by ``guide`` (float32 H×W): q = ā·I + b̄
    (:func:`fit_coefficients`).

    ``radius``: r or (r_rows, r_cols). ``weight`` (float32 H×W, ≥ 0): a masked fit, only the
    cells with weight > 0 inform the windows (the others take their neighbours' fit)."""
    a, b = fit_coefficients(guide, p, radius, eps, cv2_module(), weight)
    a *= guide
    a += b
    return a


def guided_upsample(field: np.ndarray, frame: np.ndarray, shape: tuple[int, int],
                    out: np.ndarray | None = None, *, at_shape: bool = False,
                    fit_step: int | None = None) -> np.ndarray:
    """A coarse float field (H'×W') at ``shape`` with its edges on the edges of ``frame`` (H×W×3, any
    dtype): the fast guided filter (He & Sun 2015) — the local fit q = a·I + b on the coarse grid (window
    ±:data:`RADIUS` cells, every :data:`FIT_STEP`-th cell), a and b bilinear to half resolution and applied
    to the half-resolution guide there, bounded by the field's range nearby (:data:`REACH`: an edge moves
    by a cell or two, no halo, never outside the field's range), then bilinear to ``shape``, in ``out``
    when given. ``at_shape``: the fit applied to the guide at ``shape`` itself (a half-resolution
    target such as Rain's: its edges at that grid's resolution, not half of it; on the field's own grid,
    the plain guided filter, its cell edges moved onto the frame's); ``fit_step`` overrides the fit's subsampling."""
    from .plane_ops import upsample

    h, w = shape
    field = np.ascontiguousarray(field, dtype=np.float32)
    hc, wc = field.shape
    h2, w2 = (h, w) if at_shape else (max(hc, h // 2), max(wc, w // 2))
    if min(hc, wc) < 4 or ((hc, wc) == (h, w) and not at_shape):
        return upsample(field, shape, out=out)
    cv2 = cv2_module()
    guide = guide_of(frame, (h2, w2))
    step = fit_step or (AT_SHAPE_FIT_STEP if at_shape else FIT_STEP)
    if step > 1 and min(hc, wc) >= 16 * step:  # the fit on every step-th cell (He & Sun's s)
        fit_shape = (hc // step, wc // step)
        sub = field[step // 2 :: step, step // 2 :: step][: fit_shape[0], : fit_shape[1]]
        radius = max(1, RADIUS // step)
    else:
        fit_shape, sub, radius = (hc, wc), field, RADIUS
    a, b = fit_coefficients(guide_of(frame, fit_shape, "guided_Ic"), sub, radius, EPS, cv2)
    half = (h2, w2)
    q = upsample(a, half, out=out if at_shape and out is not None else buffer("guided_q", half))
    q *= guide
    q += upsample(b, half, out=buffer("guided_b", half))
    lo, hi = _range(field, (REACH, 1), cv2)
    np.maximum(q, upsample(lo, half, out=buffer("guided_b", half)), out=q)
    np.minimum(q, upsample(hi, half, out=buffer("guided_b", half)), out=q)
    return q if at_shape else upsample(q, shape, out=out)


def _range(p: np.ndarray, radius: tuple[int, int], cv2: Any) -> tuple[np.ndarray, np.ndarray]:
    """The minimum of ``p`` over ±``radius[0]`` cells and its maximum over ±``radius[1]``."""
    sizes = [2 * r + 1 for r in radius]
    if cv2 is not None and max(p.shape) < 32768:
        return (cv2.erode(p, np.ones((sizes[0],) * 2, np.uint8), borderType=cv2.BORDER_REPLICATE),
                cv2.dilate(p, np.ones((sizes[1],) * 2, np.uint8), borderType=cv2.BORDER_REPLICATE))
    from scipy.ndimage import maximum_filter, minimum_filter

    return minimum_filter(p, sizes[0], mode="nearest"), maximum_filter(p, sizes[1], mode="nearest")
