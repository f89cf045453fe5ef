"""Fields of a drone frame: regions of homogeneous vegetation, each with its own phenology timing.

Neighbouring fields are sown, watered and harvested on different dates, so at one moment
they sit at different points of the season. A field reads as one *texture*: its plant
density (the mean vegetation index) and its row pattern (the index's local spread: drilled
rows, vine rows, orchard trees, bare soil), measured over a window of
:data:`TEXTURE_SIGMA_M` on the ground (about the tree spacing of an orchard, so rows and the
gaps between them read as one texture). The frame is segmented on these two features
with Felzenszwalb & Huttenlocher's (2004) graph method (``skimage.segmentation.felzenszwalb``)
on a ≤ :data:`OVERVIEW_PX` px overview, fields no smaller than :data:`MIN_FIELD_M` across
(smallholder plots) nor :data:`MIN_FIELD_FRACTION` of the frame; each field draws its own timing offset. On the samples this separates
the MicaSense vineyard, track and orchard, and outlines most of the Pix4D plots (20–40 m).
Without a GSD the frame is taken as :data:`UNKNOWN_FRAME_M` across (a multispectral camera
at 120 m: 1280 px × 8 cm).
"""

from __future__ import annotations

import numpy as np

from domaug.kit import cv2_module

#: longest side of the overview the fields are segmented on (pixels)
OVERVIEW_PX = 192
#: σ of the window that measures a field's texture, metres on the ground
TEXTURE_SIGMA_M = 5.0
#: smallest field, metres across (its area is this squared)
MIN_FIELD_M = 12.0
#: smallest field as a fraction of the frame (bounds the field count to a few hundred on coarse imagery)
MIN_FIELD_FRACTION = 0.002
#: width of a frame whose GSD is unknown, metres
UNKNOWN_FRAME_M = 100.0
#: Felzenszwalb's scale on the two [0, 1] features (larger: fewer, larger fields)
MERGE_SCALE = 40.0


def segment_fields(index: np.ndarray, valid: np.ndarray | None = None, gsd_m: float | None = None) -> np.ndarray:
    """Field labels (H×W int32, 0..n−1) of a vegetation-index plane (pixels outside ``valid`` ignored).

    Features per overview pixel: the local mean of the index and its local standard
    deviation (Gaussian window σ = :data:`TEXTURE_SIGMA_M`), each scaled to its 2–98 %
    range; Felzenszwalb segmentation (scale :data:`MERGE_SCALE`, fields of at least
    :data:`MIN_FIELD_M`²); labels brought back by nearest neighbour. ``gsd_m`` None: the
    frame is :data:`UNKNOWN_FRAME_M` across. Deterministic: the same frame gives the same fields.
    """
    from scipy.ndimage import gaussian_filter
    from skimage.segmentation import felzenszwalb

    h, w = index.shape
    gsd = float(gsd_m) if gsd_m else UNKNOWN_FRAME_M / max(h, w, 1)
    step = max(1, int(np.ceil(max(h, w) / OVERVIEW_PX)))
    x = np.asarray(index, np.float32)
    if not np.isfinite(x.sum()):
        x = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
    sr, sc = min(step, h), min(step, w)
    hh, ww = h // sr, w // sc  # (a last partial block joins its neighbour's label)
    mean, square = _block_moments(x[: hh * sr, : ww * sc], None if valid is None else valid[: hh * sr, : ww * sc],
                                  hh, ww)
    sigma = max(TEXTURE_SIGMA_M / gsd / step, 1.0)
    mean = gaussian_filter(mean, sigma, mode="nearest")
    square = gaussian_filter(square, sigma, mode="nearest")
    spread = np.sqrt(np.maximum(square - mean * mean, 0.0))
    features = np.stack([_unit_range(mean), _unit_range(spread)], axis=-1)
    # (at satellite GSDs a field spans a few pixels: keep fields ≥ MIN_FIELD_FRACTION of the frame)
    min_size = int(min(max(4.0, (MIN_FIELD_M / gsd / step) ** 2, MIN_FIELD_FRACTION * hh * ww), 0.5 * hh * ww))
    labels = felzenszwalb(features, scale=MERGE_SCALE, sigma=0.0, min_size=max(min_size, 1), channel_axis=-1)
    labels = absorb_thin(labels, sigma)
    rows = np.minimum(np.arange(h) // sr, hh - 1)
    cols = np.minimum(np.arange(w) // sc, ww - 1)
    return np.ascontiguousarray(labels[rows[:, None], cols[None, :]].astype(np.int32))


def absorb_thin(labels: np.ndarray, half_width: float) -> np.ndarray:
    """Labels with every region narrower than 2·``half_width`` px given to the regions nearest its pixels.

    Between two textures the smoothed features pass through intermediate values, which the
    segmentation may keep as a strip one window wide: a transition, not a field. A region's
    half-width is the largest distance of its pixels to a label boundary. Labels renumbered 0..n−1.
    """
    from scipy.ndimage import distance_transform_edt, maximum

    edge = np.zeros(labels.shape, bool)
    edge[:-1] |= labels[:-1] != labels[1:]
    edge[1:] |= labels[1:] != labels[:-1]
    edge[:, :-1] |= labels[:, :-1] != labels[:, 1:]
    edge[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    if not edge.any():
        return labels
    n = int(labels.max()) + 1
    widths = np.asarray(maximum(distance_transform_edt(~edge), labels, index=np.arange(n)))
    thin = (widths < half_width)[labels]
    if thin.all() or not thin.any():
        return labels
    rows, cols = distance_transform_edt(thin, return_distances=False, return_indices=True)
    return np.unique(labels[rows, cols], return_inverse=True)[1].reshape(labels.shape)


def _block_moments(x: np.ndarray, valid: np.ndarray | None, hh: int, ww: int) -> tuple[np.ndarray, np.ndarray]:
    """Block means of x and x² over the valid pixels; blocks without any take the median block (float32)."""
    if valid is None:
        return block_mean(x, hh, ww), block_mean(x * x, hh, ww)
    wgt = valid.astype(np.float32)
    xw = x * wgt
    n = block_mean(wgt, hh, ww)
    m1, m2 = block_mean(xw, hh, ww), block_mean(xw * x, hh, ww)
    seen = n > 1e-6
    if not seen.any():
        return np.zeros_like(m1), np.zeros_like(m2)
    np.divide(m1, n, out=m1, where=seen)
    np.divide(m2, n, out=m2, where=seen)
    if not seen.all():
        m1[~seen], m2[~seen] = np.median(m1[seen]), np.median(m2[seen])
    return m1, m2


def _unit_range(f: np.ndarray) -> np.ndarray:
    """``f`` scaled so its 2nd–98th percentiles span [0, 1] (float32)."""
    lo, hi = np.percentile(f, [2.0, 98.0])
    return ((f - lo) / max(float(hi - lo), 1e-6)).astype(np.float32)


def block_mean(x: np.ndarray, hh: int, ww: int) -> np.ndarray:
    """Mean of each of hh × ww equal blocks of a float32 plane whose sides are multiples of hh and ww."""
    cv2 = cv2_module()
    if cv2 is not None and max(x.shape) < 2**15:
        return cv2.resize(np.ascontiguousarray(x), (ww, hh), interpolation=cv2.INTER_AREA)
    return x.reshape(hh, x.shape[0] // hh, ww, x.shape[1] // ww).mean(axis=(1, 3))


def field_draws(n_fields: int, seed: int, spread: float) -> np.ndarray:
    """Each field's timing offset, N(0, ``spread``) (float32, n_fields; zeros for spread 0)."""
    if spread <= 0 or n_fields <= 0:
        return np.zeros(max(n_fields, 1), np.float32)
    return np.random.default_rng(seed).normal(0.0, spread, n_fields).astype(np.float32)


def field_offsets(labels: np.ndarray, seed: int, spread: float) -> np.ndarray:
    """Per-pixel timing offset (H×W float32): each field's :func:`field_draws` value."""
    n = int(labels.max()) + 1 if labels.size else 0
    return field_draws(n, seed, spread)[labels] if n else np.zeros(labels.shape, np.float32)
