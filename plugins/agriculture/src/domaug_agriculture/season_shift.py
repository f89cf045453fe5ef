"""agriculture.SeasonShift: move vegetation pixels toward a phenological stage."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from domaug.kit import Context, ParameterError, check_number, check_range, copy_where, row_blocks, sample_uniform

from . import _fast, bands, phenology
from ._base import AgriPixelTransform, working_copy
from .vegetation import feather, ndvi_from, sample_vegetation


class SeasonShift(AgriPixelTransform):
    """Phenology: make the crop look earlier or later in the season (green-up, peak, senescence, dormant).

    Model: index-driven phenology — NDVI moved toward the stage's NDVI and NIR solved as
    NIR′ = R′·(1+NDVI′)/(1−NDVI′) (Rouse 1974 NDVI; red edge scaled with NIR); visible
    bands' chromaticity moved toward the stage's leaf colour (yellow-orange for
    senescence, brown for dormant, greener for green-up), so ExG (Woebbecke 1995) moves
    by the same fraction. Only vegetation pixels (:func:`vegetation_mask`) change, blended
    with a feathered mask; soil farther than ~3·``feather_px`` from a plant is bit-exact.

    Parameters
    ----------
    stage : str or list of str
        ``"green-up"``, ``"peak"``, ``"senescence"``, ``"dormant"`` (a list: one drawn per call).
    strength : float or (low, high)
        Fraction t ∈ [0, 1] of the way to the stage: NDVI′ = NDVI + t·(NDVI_stage − NDVI).
    feather_px : float
        Gaussian σ (pixels) of the soft mask edge.
    threshold : float, optional
        Vegetation threshold (NDVI, or ExG for RGB; default NDVI 0.3 / ExG Otsu).
    target_ndvi : float or (low, high), optional
        Override the stage's NDVI (green-up 0.90, peak 0.85, senescence 0.35, dormant
        0.15, for reflectance); e.g. lower values for uncalibrated DN.
    p : float
        Probability of applying.

    Targets: image (RGB, RGBA orthomosaics, multispectral with band_names); other targets pass through.
    """

    def __init__(
        self,
        stage: str | Sequence[str] = "senescence",
        strength: float | tuple[float, float] = (0.5, 1.0),
        feather_px: float = 1.5,
        threshold: float | None = None,
        target_ndvi: float | tuple[float, float] | None = None,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        stages = [stage] if isinstance(stage, str) else list(stage)
        if not stages or any(s not in phenology.STAGES for s in stages):
            raise ParameterError(f"stage must be one of {list(phenology.STAGES)} or a list of them, got {stage!r}")
        self.stages = stages
        self.strength = check_range(strength, "strength", low=0.0, high=1.0)
        self.feather_px = check_number(feather_px, "feather_px", low=0.0, high=50.0)
        self.threshold = None if threshold is None else check_number(threshold, "threshold", low=-1.0, high=1.0)
        self.target_ndvi = (None if target_ndvi is None
                            else check_range(target_ndvi, "target_ndvi", low=-0.95, high=0.95))

    def check_input(self, sample: Mapping[str, Any]) -> None:
        super().check_input(sample)
        bands.require_vegetation_bands(sample, self.name_for_errors())

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        stage = self.stages[0] if len(self.stages) == 1 else self.stages[int(rng.integers(len(self.stages)))]
        return {
            "stage": stage,
            "strength": sample_uniform(rng, self.strength),
            "feather_px": self.feather_px,
            "threshold": self.threshold,
            "target_ndvi": (phenology.STAGES[stage]["ndvi"] if self.target_ndvi is None
                            else sample_uniform(rng, self.target_ndvi)),
        }

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        x = working_copy(image, ctx)
        veg = sample_vegetation(ctx, params["threshold"])
        t = feather(veg, params["feather_px"])
        t *= np.float32(params["strength"])
        if ctx.footprint is not None:
            np.multiply(t, ctx.footprint, out=t)
        sel = t > 0
        if not sel.any():
            return x
        # work on the rows that hold any vegetation, in blocks of rows whose planes stay in
        # cache (contiguous planes, no fancy indexing)
        rows = np.flatnonzero(sel.any(axis=1))
        r0, r1 = int(rows[0]), int(rows[-1]) + 1
        for a, b in row_blocks(r0, r1, x.shape[1] * x.shape[2], _fast.BLOCK_VALUES):
            if sel[a:b].any():
                self._shift_rows(x[a:b], t[a:b], sel[a:b], params, ctx)
        return x

    @staticmethod
    def _shift_rows(xs: np.ndarray, ts: np.ndarray, ss: np.ndarray, params: Mapping[str, Any], ctx: Context) -> None:
        """Shift the selected pixels ``ss`` of a C-contiguous block of rows ``xs`` in place."""
        spec = phenology.STAGES[params["stage"]]
        r, fs = ctx.roles, ctx.full_scale
        planes: dict[int, np.ndarray] = {}

        def plane(i: int) -> np.ndarray:
            if i not in planes:
                planes[i] = np.ascontiguousarray(xs[..., i])
            return planes[i]

        new: dict[int, np.ndarray] = {}
        if all(k in r for k in ("red", "green", "blue")):
            idx = (r["red"], r["green"], r["blue"])
            shifted = phenology.shift_visible_planes([plane(i) for i in idx], ts, spec["chroma"], spec["brightness"], fs)
            new.update(zip(idx, shifted))
        if "red" in r and "nir" in r:
            red0, nir0 = plane(r["red"]), plane(r["nir"])
            n1 = ndvi_from(red0, nir0)  # NDVI′ = NDVI + t·(NDVI_stage − NDVI)
            step = np.subtract(np.float32(params.get("target_ndvi", spec["ndvi"])), n1)
            step *= ts
            n1 += step
            red_in = np.minimum(new.get(r["red"], red0), np.float32(fs))
            red1, nir1 = phenology.solve_nir(red_in, n1, fs)
            new[r["red"]], new[r["nir"]] = red1, nir1
            if "rededge" in r:
                has_nir = nir0 > 0
                ratio = np.divide(nir1, np.where(has_nir, nir0, np.float32(1)))
                re0 = plane(r["rededge"])
                ratio *= re0
                np.copyto(ratio, re0, where=~has_nir)
                new[r["rededge"]] = ratio
        if 2 * len(new) >= xs.shape[-1]:  # most bands change: one masked copy of the whole block
            merged = np.stack([new[i] if i in new else plane(i) for i in range(xs.shape[-1])], axis=-1)
            copy_where(xs, merged, ss)
            return
        unselected = ~ss
        for i, value in new.items():
            np.copyto(value, plane(i), where=unselected)
            xs[..., i] = value
