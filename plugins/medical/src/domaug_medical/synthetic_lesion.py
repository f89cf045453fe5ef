"""medical.SyntheticLesion: insert a synthetic lesion into an organ and into its label map."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.kit import (Context, ParameterError, PixelTransform, UnsupportedInputError, check_number, check_range,
                        draw_seed, sample_uniform, to_float, valid_of)

from . import lesion
from ._base import MedicalMixin, medical_layout, spacing_mm
from .intensity import filled_float, looks_like_ct

#: Default CT contrast (HU): a hypodense lesion, e.g. a liver metastasis in portal phase.
DEFAULT_CT_CONTRAST_HU = (-60.0, -20.0)


class SyntheticLesion(MedicalMixin, PixelTransform):
    """Synthetic lesion: an irregular, textured blob of chosen size and contrast inside an organ.

    Model: additive lesion insertion as used for CT/MR detectability studies and lesion
    augmentation (e.g. Pezeshk et al., "Seamless lesion insertion for data augmentation in
    CAD training", IEEE TMI 36(4), 2017): the image gets ``α·(contrast + texture)`` where
    α ∈ [0, 1] is the lesion's partial-volume fraction (radius modulated by a smooth random
    field for an irregular outline, a linear ramp of ``edge_mm`` at the boundary), so the
    underlying noise and anatomy stay. The lesion lies inside ``organ_label`` of ``mask``
    when given (centre at least one radius deep where possible, clipped to the organ),
    else inside tissue-like intensities (soft-tissue HU for CT, above Otsu otherwise).
    Voxels with α ≥ 0.5 get ``lesion_label`` in ``mask`` (created when absent).

    Parameters
    ----------
    diameter_mm : float or (low, high)
        Lesion diameter, mm (spacing from meta, default 1 mm). Default 6–20.
    contrast : float or (low, high), optional
        Lesion minus background in image units (HU for CT). Default for CT: −60…−20 HU.
    contrast_relative : float or (low, high)
        Used when ``contrast`` is not given and the image is not CT: fraction of the
        region's mean intensity. Default −0.4…−0.15 (hypointense).
    irregularity : float or (low, high)
        Relative radius modulation (0 = sphere). Default 0–0.3.
    texture : float
        Std of the lesion texture as a fraction of |contrast|. Default 0.2.
    edge_mm : float
        Width of the partial-volume edge, mm. Default 1.
    organ_label : int
        Mask label of the host organ. Default 1.
    lesion_label : int
        Label written for the lesion. Default 2 (LiTS convention: 1 liver, 2 tumour).
    p : float
        Probability of applying.

    Targets: image (2-D or 3-D), ``mask`` (lesion written), other masks, valid and meta pass.
    """

    targets = frozenset({"image", "mask", "valid", "meta", "field"})

    def __init__(self, diameter_mm=(6.0, 20.0), contrast=None, contrast_relative=(-0.4, -0.15),
                 irregularity=(0.0, 0.3), texture: float = 0.2, edge_mm: float = 1.0,
                 organ_label: int = 1, lesion_label: int = 2, p: float = 1.0) -> None:
        super().__init__(p=p)
        self.diameter_mm = check_range(diameter_mm, "diameter_mm", low=0, low_inclusive=False)
        self.contrast = None if contrast is None else check_range(contrast, "contrast")
        self.contrast_relative = check_range(contrast_relative, "contrast_relative", low=-1, high=10)
        self.irregularity = check_range(irregularity, "irregularity", low=0, high=1)
        self.texture = check_number(texture, "texture", low=0)
        self.edge_mm = check_number(edge_mm, "edge_mm", low=0)
        self.organ_label = check_number(organ_label, "organ_label", integer=True)
        self.lesion_label = check_number(lesion_label, "lesion_label", low=1, integer=True)
        if self.lesion_label == self.organ_label:
            raise ParameterError(f"lesion_label must differ from organ_label, got {lesion_label!r} for both")

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        lay = medical_layout(sample)
        spacing = spacing_mm(sample, lay)
        image = filled_float(sample["image"], sample)
        mask = sample.get("mask")
        ct = looks_like_ct(sample)
        organ = mask == self.organ_label if mask is not None else None
        if organ is None or not organ.any():
            organ = lesion.tissue_region(image, ct)
            use_mask = False
        else:
            use_mask = True
        valid = valid_of(sample)
        if valid is not None:
            organ = organ & valid
        if not organ.any():
            raise UnsupportedInputError(f"{self.name_for_errors()}: no organ (label {self.organ_label}) "
                                        "or tissue-like region to place a lesion in")
        radius = sample_uniform(rng, self.diameter_mm) / 2.0
        candidates, _ = lesion.candidate_centres(organ, radius, spacing)
        centre = np.unravel_index(int(candidates[int(rng.integers(candidates.size))]), organ.shape)
        if self.contrast is not None:
            contrast = sample_uniform(rng, self.contrast)
        elif ct:
            contrast = sample_uniform(rng, DEFAULT_CT_CONTRAST_HU)
        else:
            contrast = sample_uniform(rng, self.contrast_relative) * float(np.mean(image[organ], dtype=np.float64))
        return {"centre": [int(c) for c in centre], "radius_mm": radius, "contrast": contrast,
                "irregularity": sample_uniform(rng, self.irregularity), "texture": self.texture * abs(contrast),
                "edge_mm": self.edge_mm, "organ_label": self.organ_label if use_mask else None,
                "lesion_label": self.lesion_label, "seed": draw_seed(rng)}

    def prepare(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> Context:
        """The lesion: its box and partial-volume fraction α (inside the organ and the valid
        voxels), the intensity it adds, and the new ``mask`` when the sample has none."""
        ctx = super().prepare(sample, params)
        seed = int(params["seed"])
        box, alpha = lesion.lesion_alpha(ctx.layout.spatial_shape, centre=params["centre"],
                                         radius_mm=float(params["radius_mm"]), spacing=ctx.spacing_mm,
                                         irregularity=float(params["irregularity"]),
                                         edge_mm=float(params["edge_mm"]), seed=seed)
        mask = ctx.get("mask")
        if params["organ_label"] is not None and mask is not None:
            alpha *= (mask[box] == int(params["organ_label"]))
        if ctx.valid is not None:
            alpha *= ctx.valid[box]
        delta = np.full(alpha.shape, float(params["contrast"]), dtype=np.float32)
        if float(params["texture"]) > 0:
            delta += float(params["texture"]) * lesion.lesion_texture(alpha.shape, spacing=ctx.spacing_mm,
                                                                      grain_mm=1.5, seed=seed)
        ctx.lesion_box, ctx.lesion_alpha, ctx.lesion_delta = box, alpha, delta
        if mask is None:
            ctx.new_targets["mask"] = self._label(None, int(params["lesion_label"]), ctx)
        return ctx

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        work = to_float(image)
        work[ctx.lesion_box] += (ctx.lesion_alpha * ctx.lesion_delta).astype(work.dtype, copy=False)
        return work

    def apply_to_mask(self, mask: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        if mask is not ctx.get("mask"):  # another label map (``*_mask``): passes through
            return mask
        return self._label(mask, int(params["lesion_label"]), ctx)

    @staticmethod
    def _label(mask: np.ndarray | None, label: int, ctx: Context) -> np.ndarray:
        """``mask`` (or a new empty label map) with the voxels of α ≥ 0.5 set to ``label``."""
        if mask is None:
            new_mask = np.zeros(ctx.layout.spatial_shape, dtype=np.uint8 if label <= 255 else np.uint16)
        else:
            info = np.iinfo(mask.dtype) if mask.dtype != bool else None
            if info is None or not info.min <= label <= info.max:
                raise UnsupportedInputError(f"lesion_label {label} does not fit the mask dtype {mask.dtype}")
            new_mask = mask.copy()
        new_mask[ctx.lesion_box][ctx.lesion_alpha >= 0.5] = label
        return new_mask
