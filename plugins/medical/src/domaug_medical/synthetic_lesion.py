"""medical.SyntheticLesion: insert a synthetic lesion into an organ and into its label map."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.dtypes import finish, to_float
from domaug.errors import ParameterError, UnsupportedInputError
from domaug.params import check_number, check_range, draw_seed, sample_uniform
from domaug.targets import valid_of
from domaug.transform import Transform

from . import lesion
from ._base import MedicalMixin, fill_invalid, looks_like_ct, medical_layout, spacing_mm

#: Default CT contrast (HU): a hypodense lesion, e.g. a liver metastasis in portal phase.
DEFAULT_CT_CONTRAST_HU = (-60.0, -20.0)


class SyntheticLesion(MedicalMixin, Transform):
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
        image = fill_invalid(to_float(sample["image"]), sample)
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

    def apply(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> dict:
        lay = medical_layout(sample)
        spacing = spacing_mm(sample, lay)
        seed = int(params["seed"])
        box, alpha = lesion.lesion_alpha(lay.spatial_shape, centre=params["centre"], radius_mm=float(params["radius_mm"]),
                                         spacing=spacing, irregularity=float(params["irregularity"]),
                                         edge_mm=float(params["edge_mm"]), seed=seed)
        mask = sample.get("mask")
        if params["organ_label"] is not None and mask is not None:
            alpha *= (mask[box] == int(params["organ_label"]))
        valid = valid_of(sample)
        if valid is not None:
            alpha *= valid[box]
        delta = np.full(alpha.shape, float(params["contrast"]), dtype=np.float32)
        if float(params["texture"]) > 0:
            delta += float(params["texture"]) * lesion.lesion_texture(alpha.shape, spacing=spacing, grain_mm=1.5, seed=seed)
        work = to_float(sample["image"])
        work[box] += (alpha * delta).astype(work.dtype, copy=False)
        out = dict(sample)
        out["image"] = finish(work, sample, valid)
        label = int(params["lesion_label"])
        if mask is None:
            new_mask = np.zeros(lay.spatial_shape, dtype=np.uint8 if label <= 255 else np.uint16)
        else:
            info = np.iinfo(mask.dtype) if mask.dtype != bool else None
            if info is None or not info.min <= label <= info.max:
                raise UnsupportedInputError(f"lesion_label {label} does not fit the mask dtype {mask.dtype}")
            new_mask = mask.copy()
        new_mask[box][alpha >= 0.5] = label
        out["mask"] = new_mask
        return out
