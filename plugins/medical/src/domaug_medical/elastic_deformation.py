"""medical.ElasticDeformation: soft-tissue deformation in millimetres, 2-D slices and 3-D volumes."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.kit import ElasticDeformation as CoreElasticDeformation
from domaug.kit import (Context, UnsupportedInputError, check_choice, check_number, check_range, control_grid_field,
                        draw_seed, sample_uniform)

from . import rigid
from ._base import medical_layout, spacing_mm
from .intensity import filled_float, looks_like_ct

BOUNDARIES = ("mirror", "background")
#: Largest displacement as a fraction of the control-point spacing: a cubic B-spline field
#: stays one-to-one (no folding) below ~0.4 of it (Rueckert et al., Med Image Comput Comput
#: Assist Interv 2006, diffeomorphic FFD; Choi & Lee 2000 give 0.40 per axis; from memory).
FOLD_FREE_FRACTION = 0.4
#: Background of a modality: air for CT (HU), no signal for MR.
BACKGROUND = {"CT": -1000.0, "MR": 0.0}


class ElasticDeformation(CoreElasticDeformation):
    """Soft-tissue deformation: a smooth random displacement field with a maximum in millimetres,
    bone kept rigid.

    Model: free-form deformation with cubic B-splines (Rueckert et al., IEEE TMI 18(8), 1999),
    the core kernel ``domaug.ops.elastic``: ``n_control`` points per axis get random
    vectors inside a *physical* ball of radius ``max_displacement_mm``; per axis the bound
    in voxels is ``max_displacement_mm / spacing`` (anisotropic voxels respected, e.g. 5 mm
    slices move 5× less in voxels than 1 mm rows), and the B-spline is a convex combination
    so the maximum is never exceeded. One field for the whole volume, so structures stay
    continuous across slices. Images are resampled linearly (order 1), label maps and
    ``valid`` with nearest neighbour (no new labels).

    Rigid parts: bone does not deform with soft tissue. On CT, voxels above ``rigid_bone_hu``
    (holes filled: the marrow inside the cortex) and the mask labels in ``rigid_labels``
    (any modality) keep their place and shape exactly: the displacement is multiplied by
    ``clip((d − m)/(2·D), 0, 1)`` at distance ``d`` mm from them (``m`` one voxel diagonal,
    ``D`` the drawn maximum), so soft tissue bends around them and never samples inside
    them (``rigid.rigidity_weight``).

    Border: positions that fall outside the grid are mirrored back in (``boundary="mirror"``,
    default: the anatomy at the border continues, no wedge of fill — images are often
    crops of the scanner's field of view), or get the modality's background
    (``"background"``: −1000 HU for CT, 0 for MR, meta ``nodata`` when declared, the image
    minimum otherwise). Padding outside the scanner's field of view (``valid`` False, from
    DICOM PixelPaddingValue) stays padding.

    Parameters
    ----------
    max_displacement_mm : float or (low, high)
        Largest displacement, mm (spacing from ``meta["spacing"]``, default 1 mm). Default 2–8.
    n_control : int
        Control points along the physically longest axis (>= 4; default 6); shorter axes get
        proportionally fewer (at least 2) so the control grid is about isotropic in mm (a
        thin stack of 5 mm slices is not bent slice by slice). The displacement is capped
        at 0.4 of the control spacing in mm (``fold_limit_mm``, recorded beside the drawn
        value): tissue does not fold, and a small field of view (e.g. a 20 mm MR crop) is
        not torn by a displacement meant for a body.
    order : int
        Image interpolation: 0, 1 (default) or 3 (kept within the input's range: no cubic
        overshoot below air).
    boundary : {"mirror", "background"}
        What is sampled beyond the image border. Default mirror.
    rigid_bone_hu : float, optional
        CT bone threshold, HU (cancellous bone is 300–800 HU, cortical above 1000).
        Default 300; None lets bone deform like soft tissue.
    rigid_labels : sequence of int, optional
        Labels of ``mask`` kept rigid (e.g. vertebrae of a segmentation), any modality.
    fill : float, optional
        A constant for uncovered voxels instead of ``boundary`` (the previous behaviour).
    mask_fill : int
        Label for uncovered mask voxels (background boundary only; default 0).
    p : float
        Probability of applying.

    Targets: image, mask / ``*_mask``, valid, fields, meta (unchanged grid); 2-D boxes and
    keypoints on slices.
    """

    prefer_volume = True

    def __init__(self, max_displacement_mm: Any = (2.0, 8.0), n_control: int = 6, order: int = 1,
                 boundary: str = "mirror", rigid_bone_hu: float | None = 300.0, rigid_labels=None,
                 fill: float | None = None, mask_fill: int = 0, p: float = 1.0) -> None:
        super().__init__(max_displacement_mm=max_displacement_mm, n_control=n_control, order=order,
                         fill=0.0 if fill is None else fill, mask_fill=mask_fill, p=p)
        self.max_displacement = check_range(max_displacement_mm, "max_displacement_mm", low=0)
        self.boundary = check_choice(boundary, "boundary", BOUNDARIES)
        self.rigid_bone_hu = None if rigid_bone_hu is None else float(check_number(rigid_bone_hu, "rigid_bone_hu"))
        self.rigid_labels = [] if rigid_labels is None else [
            int(check_number(v, "rigid_labels", integer=True)) for v in
            (rigid_labels if isinstance(rigid_labels, (list, tuple)) else [rigid_labels])]
        self.fill_value = None if fill is None else float(check_number(fill, "fill"))

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        lay = medical_layout(sample)
        spacing = spacing_mm(sample, lay)
        drawn = sample_uniform(rng, self.max_displacement)
        extent = [n * s for n, s in zip(lay.spatial_shape, spacing)]
        n_control = [int(min(self.n_control, max(2, round(self.n_control * e / max(extent))))) for e in extent]
        fold_limit = FOLD_FREE_FRACTION * min(e / (n - 1) for e, n in zip(extent, n_control))
        magnitude = min(drawn, fold_limit)
        boundary = "constant" if self.fill_value is not None else self.boundary
        ct = looks_like_ct(sample)
        return {"seed": draw_seed(rng), "max_disp_px": [magnitude / s for s in spacing],
                "max_displacement_mm": magnitude, "drawn_displacement_mm": drawn, "fold_limit_mm": fold_limit,
                "n_control": n_control, "order": self.order,
                "fill": self._fill(sample, ct), "mask_fill": self.mask_fill, "boundary": boundary,
                "rigid_bone_hu": self.rigid_bone_hu if ct else None, "rigid_labels": list(self.rigid_labels)}

    def _fill(self, sample: Mapping[str, Any], ct: bool) -> float:
        """The image value of uncovered voxels: ``fill``, else the modality's background, else
        the image minimum (meta ``nodata``, when declared, takes precedence in the warp)."""
        if self.fill_value is not None:
            return self.fill_value
        modality = "CT" if ct else str((sample.get("meta") or {}).get("modality") or "").upper()
        if modality in BACKGROUND:
            return BACKGROUND[modality]
        image = sample["image"]
        return float(np.nanmin(image)) if image.size else 0.0

    def prepare(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> Context:
        """The core's sampler, then the rigid parts damped and the border mirrored."""
        ctx = super().prepare(sample, params)
        if getattr(ctx, "sampler", None) is None or getattr(ctx, "unchanged", False):
            return ctx
        coords = ctx.sampler.coords
        weight = self.rigidity(sample, params, ctx)
        if weight is not None:
            rigid.damp_coordinates(coords, weight)
            if not np.shares_memory(ctx.field, coords):  # kept apart for boxes and keypoints
                ctx.field *= weight
        if params.get("boundary") == "mirror":
            rigid.mirror_coordinates(coords)
        return ctx

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        """The core's warp; with cubic interpolation (``order=3``) the result is kept within the
        input's range (and the fill): a spline overshoots at sharp edges, and no tissue is
        darker than air (−1000 HU) or brighter than the brightest bone."""
        out = super().apply_to_image(image, params, ctx)
        if ctx.order <= 1 or not image.size:
            return out
        valid = ctx.valid
        values = image[valid] if valid is not None else image
        if values.dtype.kind == "f":
            values = values[np.isfinite(values)]
        if not values.size:
            return out
        lo, hi = float(values.min()), float(values.max())
        if params.get("fill") is not None:
            lo, hi = min(lo, float(params["fill"])), max(hi, float(params["fill"]))
        clipped = np.clip(out, lo, hi)
        return clipped if valid is None else np.where(self.apply_to_valid(valid, params, ctx), clipped, out)

    @staticmethod
    def rigidity(sample: Mapping[str, Any], params: Mapping[str, Any], ctx: Context) -> np.ndarray | None:
        """The displacement factor of :func:`rigid.rigidity_weight`, or None when nothing is rigid."""
        spacing = ctx.spacing_mm if hasattr(ctx, "spacing_mm") else spacing_mm(sample, ctx.layout)
        parts = np.zeros(ctx.layout.spatial_shape, bool)
        if params.get("rigid_bone_hu") is not None:
            parts |= rigid.bone_mask(filled_float(sample["image"], sample), float(params["rigid_bone_hu"]), spacing)
        labels = params.get("rigid_labels") or []
        mask = sample.get("mask")
        if labels and mask is not None:
            parts |= np.isin(mask, labels)
        if not parts.any():
            return None
        return rigid.rigidity_weight(parts, spacing, float(params["max_displacement_mm"]))

    @staticmethod
    def field(params: Mapping[str, Any], shape) -> np.ndarray:
        """The dense displacement field (voxels); ``n_control`` may differ per axis."""
        n = params["n_control"]
        n_control = [int(v) for v in n] if isinstance(n, (list, tuple)) else [int(n)] * len(shape)
        if len(params["max_disp_px"]) != len(shape) or len(n_control) != len(shape):
            raise UnsupportedInputError(
                f"ElasticDeformation params are for a {len(params['max_disp_px'])}-D grid, the image is {len(shape)}-D")
        return control_grid_field(shape, seed=int(params["seed"]), n_control=n_control,
                                  max_disp_px_per_axis=params["max_disp_px"])
