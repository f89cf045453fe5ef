"""agriculture.SeasonShift: move the crop along the season with a green/senescent/soil canopy mixture."""

from __future__ import annotations

import warnings
from typing import Any, Mapping, Sequence

import numpy as np

from domaug.kit import (Context, ParameterError, as_hwc, check_number, check_range, draw_seed, row_blocks,
                        sample_uniform)

from . import bands, canopy_model, fields
from ._base import AgriPixelTransform, from_linear_units, to_linear_units, working_copy
from ._fast import BLOCK_VALUES
from .vegetation import NDVI_THRESHOLD, _otsu_exg, exg, ndvi_from, sample_vegetation

#: percentile of the vegetation index over the plants taken as full green cover (f = 1)
FULL_COVER_PERCENTILE = 90.0


class SeasonShift(AgriPixelTransform):
    """Phenology: the same crop earlier or later in the season (green-up, peak, senescence, dormant).

    Model: linear spectral mixture of green vegetation, senescent vegetation and soil
    (Roberts et al. 1993; endmembers from USGS splib07 spectra, see
    :mod:`domaug_agriculture.canopy_model`): a plant pixel of green cover f becomes
    f·c·[(1 − s)·GV + s·NPV] + (1 − f·c)·Soil, applied as the per-band ratio to its old
    mixture (texture and uncalibrated DN gains kept). Senescence raises red and lowers NIR
    and the red-edge band; dormancy also sheds leaves (soil shows). Fields (segmented on the
    vegetation index) each draw their own timing offset. f is the index scaled from the
    vegetation threshold (f = 0) to the frame's dense canopy (90th percentile, f = 1), so
    the change fades out at plant edges and non-vegetation pixels are bit-exact.

    What a stage means in NDVI (reflectance, f = 1, strength 1): peak and green-up 0.86,
    senescence (70 % of the leaf area senescent) 0.44, dormant (all dry, half shed) 0.22;
    :func:`domaug_agriculture.canopy_model.stage_ndvi` gives it for any strength.

    Parameters
    ----------
    stage : str or list of str
        ``"green-up"``, ``"peak"``, ``"senescence"``, ``"dormant"`` (a list: one drawn per call).
    strength : float or (low, high)
        Fraction t ∈ [0, 1] of the way to the stage (senescent fraction t·s, cover factor 1 + t·(c − 1)).
    field_timing_spread : float
        Standard deviation of each field's offset of t (fields are sown and ripen on
        different dates); 0 = the whole frame at the same t.
    threshold : float, optional
        Vegetation threshold (NDVI, default 0.3; or ExG for RGB, default Otsu).
    target_ndvi : float or (low, high), optional
        Full-cover reflectance NDVI wanted at strength 1 instead of the stage's (sets the
        senescent fraction; values above 0.86 mean green).
    gsd_m : float, optional
        Ground sample distance (sets the texture window and smallest field of the field
        segmentation); default meta ``gsd_m``/geotransform, else the frame is taken as 100 m across.
    feather_px : float
        Deprecated and ignored (the cover fraction f already fades the change out at plant edges).
    p : float
        Probability of applying.

    Targets: image (RGB, RGBA orthomosaics, multispectral with band_names); other targets pass through.
    """

    def __init__(
        self,
        stage: str | Sequence[str] = "senescence",
        strength: float | tuple[float, float] = (0.5, 1.0),
        feather_px: float | None = None,
        threshold: float | None = None,
        target_ndvi: float | tuple[float, float] | None = None,
        field_timing_spread: float = 0.15,
        gsd_m: float | None = None,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        stages = [stage] if isinstance(stage, str) else list(stage)
        if not stages or any(s not in canopy_model.STAGES for s in stages):
            raise ParameterError(f"stage must be one of {list(canopy_model.STAGES)} or a list of them, got {stage!r}")
        self.stages = stages
        self.strength = check_range(strength, "strength", low=0.0, high=1.0)
        if feather_px is not None:
            check_number(feather_px, "feather_px", low=0.0, high=50.0)
            warnings.warn("SeasonShift(feather_px=...) is deprecated and ignored: the change fades out with the "
                          "plant cover fraction", DeprecationWarning, stacklevel=2)
        self.threshold = None if threshold is None else check_number(threshold, "threshold", low=-1.0, high=1.0)
        self.target_ndvi = (None if target_ndvi is None
                            else check_range(target_ndvi, "target_ndvi", low=-0.95, high=0.95))
        self.field_timing_spread = check_number(field_timing_spread, "field_timing_spread", low=0.0, high=1.0)
        self.gsd_m = None if gsd_m is None else check_number(gsd_m, "gsd_m", low=0.0, low_inclusive=False)

    def check_input(self, sample: Mapping[str, Any]) -> None:
        super().check_input(sample)
        bands.require_vegetation_bands(sample, self.name_for_errors())

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        stage = self.stages[0] if len(self.stages) == 1 else self.stages[int(rng.integers(len(self.stages)))]
        s_stage, cover = canopy_model.STAGES[stage]
        target = None if self.target_ndvi is None else sample_uniform(rng, self.target_ndvi)
        if target is not None:
            s_stage = canopy_model.senescent_fraction_for_ndvi(target)
        return {
            "stage": stage,
            "strength": sample_uniform(rng, self.strength),
            "senescent_fraction": s_stage,
            "cover_factor": cover,
            "target_ndvi": target,
            "field_timing_spread": self.field_timing_spread,
            "gsd_m": (self.gsd_m if self.gsd_m is not None else bands.gsd_of(sample.get("meta"), default=0.0)) or None,
            "seed": draw_seed(rng),
            "threshold": self.threshold,
        }

    def prepare(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> Context:
        ctx = super().prepare(sample, params)
        veg = sample_vegetation(ctx, params["threshold"])
        index, bare = vegetation_index(ctx, params["threshold"])
        ctx.cover = canopy_model.green_cover(index, bare, max(_dense_canopy(index, veg, bare), bare + 0.05))
        ctx.cover *= veg
        spread = float(params.get("field_timing_spread", 0.0))
        if spread > 0 and veg.any():  # each field its own point of the season
            ctx.fields = fields.segment_fields(index, ctx.footprint, params.get("gsd_m"))
            offsets = fields.field_draws(int(ctx.fields.max()) + 1, int(params.get("seed", 0)), spread)
        else:
            ctx.fields, offsets = None, np.zeros(1, np.float32)
        ctx.field_timing = np.clip(np.float32(params["strength"]) + offsets, 0.0, 1.0).astype(np.float32)
        ctx.untouched = ~veg  # non-vegetation (and outside the footprint) comes back bit-exact
        return ctx

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        """Per-band gains of the mixture, looked up by (field, cover level), on blocks of rows with plants."""
        x = working_copy(image, ctx)
        sel = ctx.cover > 0
        if not sel.any():
            return x
        s_default, c_default = canopy_model.STAGES[params["stage"]]
        stage = (float(params.get("senescent_fraction", s_default)), float(params.get("cover_factor", c_default)))
        light = np.zeros(x.shape[-1], bool)
        light[list(ctx.spectral)] = True
        table = canopy_model.gain_table(ctx.field_timing, stage, ctx.wavelengths, light)
        levels = canopy_model.COVER_LEVELS
        code = np.rint(ctx.cover * np.float32(levels - 1)).astype(np.int32)
        if ctx.fields is not None:
            code += ctx.fields * np.int32(levels)
        top = _light_ceiling(ctx, light)
        rows = np.flatnonzero(sel.any(axis=1))
        for a, b in row_blocks(int(rows[0]), int(rows[-1]) + 1, x.shape[1] * x.shape[2], BLOCK_VALUES):
            lin = to_linear_units(x[a:b], ctx)
            lin *= np.take(table, code[a:b], axis=0)
            if top is not None:  # a pixel over full scale is dimmed as a whole (hue kept)
                over = np.max(lin[..., light] / top, axis=-1, keepdims=True)
                np.maximum(over, np.float32(1.0), out=over)
                lin[..., light] /= over
            x[a:b] = from_linear_units(lin, ctx, clip=False)
        return x


def _dense_canopy(index: np.ndarray, veg: np.ndarray, bare: float) -> float:
    """The index of full green cover: its 90th percentile over the plants (on a 1-in-4 grid: the same to ~0.005)."""
    sub = index[::2, ::2][veg[::2, ::2]]
    if sub.size < 64:
        sub = index[veg]
    return float(np.percentile(sub, FULL_COVER_PERCENTILE)) if sub.size else bare + 1.0


def _light_ceiling(ctx: Context, light: np.ndarray) -> np.ndarray | None:
    """Largest linear value of each light-carrying band (integer and display-coded data), or None (float data)."""
    if ctx.signed and not ctx.coded:
        return None
    if ctx.coded:
        return np.float32(1.0)
    top = np.full(int(light.sum()), np.float32(ctx.full_scale), np.float32)
    if ctx.black_level is not None:
        top -= ctx.black_level[light]
    return top


def vegetation_index(ctx: Context, threshold: float | None) -> tuple[np.ndarray, float]:
    """(NDVI or ExG plane of the prepared frame, its value at the vegetation threshold = zero cover)."""
    hwc, r = as_hwc(ctx["image"]), ctx.roles
    if "red" in r and "nir" in r:
        red, nir = hwc[..., r["red"]].astype(np.float32), hwc[..., r["nir"]].astype(np.float32)
        if ctx.black_level is not None:  # NDVI of the signal above the dark offset
            red, nir = np.maximum(red - ctx.black_level[r["red"]], 0), np.maximum(nir - ctx.black_level[r["nir"]], 0)
        index = ndvi_from(red, nir)
        return index, NDVI_THRESHOLD if threshold is None else float(threshold)
    meta = dict(ctx.meta or {}, spatial_ndim=2)
    index = exg(hwc, meta)
    valid = ctx.footprint
    return index, _otsu_exg(index, valid) if threshold is None else float(threshold)
