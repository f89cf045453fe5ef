"""agriculture.CropStage: grow or shrink the canopy (earlier or later growth stage)."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.params import check_number, check_range, draw_seed, sample_uniform
from domaug.targets import kind_of
from domaug.transform import Transform

from . import _fast, bands, canopy
from .vegetation import sample_vegetation


class CropStage(Transform):
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
    cover_change : float or (low, high)
        Relative change of canopy fraction: +0.3 → 30 % more vegetated pixels, −0.3 → 30 % fewer.
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
        cover_change: float | tuple[float, float] = (-0.4, 0.4),
        along_row_weight: float = 0.5,
        jitter_px: int = 3,
        threshold: float | None = None,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.cover_change = check_range(cover_change, "cover_change", low=-1.0, high=5.0)
        self.along_row_weight = check_number(along_row_weight, "along_row_weight", low=0.05, high=1.0)
        self.jitter_px = check_number(jitter_px, "jitter_px", low=0, high=50, integer=True)
        self.threshold = None if threshold is None else check_number(threshold, "threshold", low=-1.0, high=1.0)

    def check_input(self, sample: Mapping[str, Any]) -> None:
        super().check_input(sample)
        bands.require_2d(sample, self.name_for_errors())
        bands.require_vegetation_bands(sample, self.name_for_errors())

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        return {
            "cover_change": sample_uniform(rng, self.cover_change),
            "along_row_weight": self.along_row_weight,
            "jitter_px": self.jitter_px,
            "threshold": self.threshold,
            "seed": draw_seed(rng),
        }

    def apply(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> dict:
        out = dict(sample)
        image = sample["image"]
        veg = sample_vegetation(sample, params["threshold"])
        fp = bands.footprint(sample)
        inside = np.ones(veg.shape, bool) if fp is None else fp
        n_veg = int(veg.sum())
        target = int(round(n_veg * (1.0 + float(params["cover_change"]))))
        target = max(0, min(target, int(inside.sum())))
        if n_veg == 0 or target == n_veg:
            out["image"] = image.copy()
            return out
        rng = np.random.default_rng(int(params["seed"]))
        direction = canopy.row_direction(veg)
        weight = float(params["along_row_weight"])
        w = veg.shape[1]
        if target > n_veg:  # grow: soil pixels nearest the canopy become canopy
            region = veg
            candidates = np.flatnonzero(~veg if fp is None else (inside & ~veg))
            k = target - n_veg
        else:  # shrink: canopy pixels nearest the soil (or the footprint edge) become soil
            region = ~veg if fp is None else (~veg | ~inside)
            candidates = np.flatnonzero(veg)
            k = n_veg - target
        near = _fast.nearest_region_pixel(region, at=candidates)
        dist = canopy.offset_distance(candidates, near, w, direction, weight)
        tiebreak = rng.random(candidates.size, dtype=np.float32) * np.float32(0.3)  # slightly ragged, natural edges
        chosen = canopy.nearest_k(dist, k, tiebreak)
        changed, near = candidates[chosen], near[chosen]
        if target > n_veg:
            src_allowed = veg
        else:  # sources: the soil nearest each exposed pixel
            soil = inside & ~veg
            if soil.any():
                src_allowed = soil
                if fp is not None:  # the region above also held the outside of the footprint
                    near = _fast.nearest_region_pixel(soil, at=changed)
            else:
                src_allowed = np.zeros(veg.shape, bool)
                src_allowed.ravel()[changed] = True
                near = _fast.nearest_region_pixel(src_allowed, at=changed)
        rows = changed // w
        cols = changed - rows * w
        near = near.astype(np.int64)
        near_r = near // w
        near_c = near - near_r * w
        src = canopy.mirrored_source(rows, cols, near_r, near_c, src_allowed)
        src = canopy.jittered_source(src[0], src[1], src_allowed, rng, int(params["jitter_px"]))
        src_flat = src[0] * w + src[1]
        new = image.copy()
        alpha = bands.roles(sample).get("alpha")
        if image.ndim == 3:
            c = image.shape[2]
            values = np.take(image.reshape(-1, c), src_flat, axis=0)
            if alpha is not None:
                values[:, alpha] = image.reshape(-1, c)[changed, alpha]
            new.reshape(-1, c)[changed] = values
        else:
            new.ravel()[changed] = image.ravel()[src_flat]
        out["image"] = new
        for name, value in sample.items():
            if name not in ("image", "applied", "alpha_mask") and kind_of(name) == "mask":
                m = value.copy()
                m.reshape(-1)[changed] = value.reshape(-1)[src_flat]
                out[name] = m
        return out
