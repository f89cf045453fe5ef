"""agriculture.CropStage: grow or shrink the canopy (earlier or later growth stage)."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.kit import Context, PixelTransform, check_number, check_range, draw_seed, sample_uniform

from . import _fast, bands, canopy
from .vegetation import sample_vegetation


class CropStage(PixelTransform):
    """Growth stage: more or less canopy cover, as the same field a few weeks later or earlier.

    Model: morphological dilation/erosion of the vegetation mask (NDVI or ExG, see
    :func:`vegetation_mask`) by rank of the Euclidean distance to the nearest canopy
    pixel (Maurer EDT; with OpenCV its 5×5 chamfer Voronoi labels, ≤ 1 px off), with an
    elliptic structure element stretched along crop rows detected in the mask's power
    spectrum (any angle); new canopy copies the plant pixels mirrored across the canopy
    edge, newly exposed soil the soil pixels mirrored across it, with a random jitter
    (the image's own leaf and soil texture). Label masks (crop/weed) follow the same
    morphology with the labels of the copied pixels: no new labels appear.

    Parameters
    ----------
    cover_delta : float or (low, high)
        Change of the canopy cover fraction of the frame (its footprint), absolute: a
        magnitude drawn from the range, grown or shrunk with equal odds (``grow_probability``);
        default 0.08–0.25, a few weeks of growth or decline. Bounded by the soil (or canopy) there is.
    grow_probability : float
        Chance that the canopy grows (later in the season) rather than shrinks.
    cover_change : float or (low, high), optional
        Relative change of the canopy fraction instead (+0.3 → 30 % more vegetated pixels,
        −0.3 → 30 % fewer); when given, ``cover_delta`` is not used.
    along_row_weight : float
        Distance weight along detected rows (< 1: canopy closes along the row first).
    jitter_px : int
        Radius of the random source offset used to carry texture into filled pixels.
    threshold : float, optional
        Vegetation threshold (NDVI, or ExG for RGB).
    p : float
        Probability of applying.

    Targets: image, mask and ``*_mask`` (labels follow; ``alpha_mask``, the footprint, stays),
    valid, fields and meta (unchanged).
    """

    targets = frozenset({"image", "mask", "valid", "meta", "field"})

    def __init__(
        self,
        cover_change: float | tuple[float, float] | None = None,
        along_row_weight: float = 0.5,
        jitter_px: int = 3,
        threshold: float | None = None,
        cover_delta: float | tuple[float, float] = (0.08, 0.25),
        grow_probability: float = 0.5,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.cover_change = None if cover_change is None else check_range(cover_change, "cover_change", low=-1.0,
                                                                            high=5.0)
        self.cover_delta = check_range(cover_delta, "cover_delta", low=0.0, high=1.0)
        self.grow_probability = check_number(grow_probability, "grow_probability", low=0.0, high=1.0)
        self.along_row_weight = check_number(along_row_weight, "along_row_weight", low=0.05, high=1.0)
        self.jitter_px = check_number(jitter_px, "jitter_px", low=0, high=50, integer=True)
        self.threshold = None if threshold is None else check_number(threshold, "threshold", low=-1.0, high=1.0)

    def check_input(self, sample: Mapping[str, Any]) -> None:
        super().check_input(sample)
        bands.require_frame(sample, self.name_for_errors())
        bands.require_vegetation_bands(sample, self.name_for_errors())

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        if self.cover_change is not None:
            change, delta = sample_uniform(rng, self.cover_change), None
        else:
            sign = 1.0 if rng.random() < self.grow_probability else -1.0
            change, delta = None, sign * sample_uniform(rng, self.cover_delta)
        return {
            "cover_change": change,
            "cover_delta": delta,
            "along_row_weight": self.along_row_weight,
            "jitter_px": self.jitter_px,
            "threshold": self.threshold,
            "seed": draw_seed(rng),
        }

    def prepare(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> Context:
        ctx = super().prepare(sample, params)
        ctx.footprint = bands.frame_footprint(ctx)
        change = plan_cover_change(sample_vegetation(ctx, params["threshold"]), ctx.footprint, params)
        if change is None:
            ctx.unchanged = True
        else:
            ctx.changed, ctx.source = change
        return ctx

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        """Changed pixels take their source pixel's values (the alpha band stays)."""
        new = image.copy()
        changed, source = ctx.changed, ctx.source
        if image.ndim == 2:
            new.ravel()[changed] = image.ravel()[source]
            return new
        c = image.shape[2]
        values = np.take(image.reshape(-1, c), source, axis=0)
        alpha = bands.roles(ctx).get("alpha")
        if alpha is not None:
            values[:, alpha] = image.reshape(-1, c)[changed, alpha]
        new.reshape(-1, c)[changed] = values
        return new

    def apply_to_mask(self, mask: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        """Labels follow their pixels; ``alpha_mask`` (the footprint) stays."""
        if mask is ctx.get("alpha_mask"):
            return mask
        m = mask.copy()
        m.reshape(-1)[ctx.changed] = mask.reshape(-1)[ctx.source]
        return m

    def finish_image(self, result: np.ndarray, image: np.ndarray, ctx: Context) -> np.ndarray:
        """Nothing to finish: whole pixels of the input moved (same dtype), none outside the footprint."""
        return result


def plan_cover_change(veg: np.ndarray, fp: np.ndarray | None,
                      params: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray] | None:
    """(flat indices of the pixels that change, flat index of the pixel each copies), or
    None when the canopy keeps its size.

    Growing: the soil pixels nearest the canopy become canopy; shrinking: the canopy pixels
    nearest the soil (or the footprint edge) become soil. Each takes the values of the pixel
    mirrored across the canopy edge, moved by a random jitter (texture carried along).
    """
    inside = np.ones(veg.shape, bool) if fp is None else fp
    n_veg, n_inside = int(veg.sum()), int(inside.sum())
    if params.get("cover_change") is not None:  # relative change of the canopy
        target = int(round(n_veg * (1.0 + float(params["cover_change"]))))
    else:  # absolute change of the cover fraction of the footprint
        target = int(round(n_veg + float(params["cover_delta"]) * n_inside))
    target = max(0, min(target, n_inside))
    if n_veg == 0 or target == n_veg:
        return None
    rng = np.random.default_rng(int(params["seed"]))
    grow = target > n_veg
    changed, near = _pixels_to_change(veg, fp, inside, abs(target - n_veg), grow, rng, params)
    if grow:
        allowed = veg
    else:
        allowed, near = _soil_sources(veg, fp, inside, changed, near)
    w = veg.shape[1]
    rows = changed // w
    cols = changed - rows * w
    near = near.astype(np.int64)
    near_r = near // w
    near_c = near - near_r * w
    src = canopy.mirrored_source(rows, cols, near_r, near_c, allowed)
    src = canopy.jittered_source(src[0], src[1], allowed, rng, int(params["jitter_px"]))
    return changed, src[0] * w + src[1]


def _pixels_to_change(veg, fp, inside, k, grow, rng, params):
    """The ``k`` candidate pixels nearest the region they join (row-weighted distance, ragged
    edges), and the nearest region pixel of each."""
    if grow:  # soil pixels become canopy
        region = veg
        candidates = np.flatnonzero(~veg if fp is None else (inside & ~veg))
    else:  # canopy pixels become soil
        region = ~veg if fp is None else (~veg | ~inside)
        candidates = np.flatnonzero(veg)
    near = _fast.nearest_region_pixel(region, at=candidates)
    dist = canopy.offset_distance(candidates, near, veg.shape[1], canopy.row_direction(veg),
                                  float(params["along_row_weight"]))
    tiebreak = rng.random(candidates.size, dtype=np.float32) * np.float32(0.3)  # slightly ragged, natural edges
    chosen = canopy.nearest_k(dist, k, tiebreak)
    return candidates[chosen], near[chosen]


def _soil_sources(veg, fp, inside, changed, near):
    """Where newly exposed soil copies from: the soil nearest each exposed pixel."""
    soil = inside & ~veg
    if soil.any():
        if fp is not None:  # the region above also held the outside of the footprint
            near = _fast.nearest_region_pixel(soil, at=changed)
        return soil, near
    allowed = np.zeros(veg.shape, bool)
    allowed.ravel()[changed] = True
    return allowed, _fast.nearest_region_pixel(allowed, at=changed)
