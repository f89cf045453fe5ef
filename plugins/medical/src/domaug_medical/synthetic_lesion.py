"""medical.SyntheticLesion: insert a synthetic lesion into an organ and into its label map."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.kit import (Context, ParameterError, PixelTransform, UnsupportedInputError, check_number, check_range,
                        draw_seed, sample_uniform, to_float, valid_of)

from . import lesion, lesion_presets
from ._base import MedicalMixin, medical_layout, spacing_mm
from .intensity import filled_float, looks_like_ct


class SyntheticLesion(MedicalMixin, PixelTransform):
    """Synthetic lesion: an irregular, textured blob of an organ's typical size and contrast inside it.

    Model: additive lesion insertion as used for CT/MR detectability studies and lesion
    augmentation (e.g. Pezeshk et al., "Seamless lesion insertion for data augmentation in
    CAD training", IEEE TMI 36(4), 2017): the image gets ``α·(contrast + texture)`` where
    α ∈ [0, 1] is the lesion's partial-volume fraction (radius modulated by a smooth random
    field for an irregular outline, a linear ramp of ``edge_mm`` across the boundary: the
    voxels the boundary cuts hold lesion and host in proportion), so the underlying noise
    and anatomy stay. Size and contrast come from the preset of the modality and ``organ``
    (:mod:`.lesion_presets`, e.g. CT liver: hypovascular metastases 20–60 HU below the liver,
    5–30 mm), each overridable.

    Placement: inside ``organ_label`` of ``mask`` when the mask has it; else inside the
    preset's host region found in the image — CT soft tissue 0–150 HU (muscle, parenchyma,
    blood; not fat, air or bone) or lung −950…−400 HU on the image smoothed by 1 mm, MR
    the voxels above Otsu's threshold. The centre lies at least one radius deep where
    possible and α is cut to the host, so no lesion voxel leaves it; when the host is
    thinner than the drawn radius (``drawn_radius_mm``), the radius shrinks to the host's
    depth (``radius_mm``) rather than the lesion being cut flat. Voxels with α ≥ 0.5
    get ``lesion_label`` in ``mask`` (created when absent).

    Parameters
    ----------
    organ : {None, "soft_tissue", "liver", "lung", "brain"}
        Host organ of the preset; None = generic soft tissue.
    diameter_mm : float or (low, high), optional
        Lesion diameter, mm (spacing from meta, default 1 mm). Default: the preset's
        (soft tissue 6–20).
    contrast : float or (low, high), optional
        Lesion minus host in image units (HU for CT). Default: the preset's for CT (soft
        tissue −60…−20 HU).
    contrast_relative : float or (low, high), optional
        For non-CT images when ``contrast`` is not given: fraction of the host's mean
        intensity. Default: the preset's (soft tissue −0.4…−0.15, hypointense).
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

    def __init__(self, organ: str | None = None, diameter_mm=None, contrast=None, contrast_relative=None,
                 irregularity=(0.0, 0.3), texture: float = 0.2, edge_mm: float = 1.0,
                 organ_label: int = 1, lesion_label: int = 2, p: float = 1.0) -> None:
        super().__init__(p=p)
        self.organ = lesion_presets.check_organ(organ)
        self.diameter_mm = None if diameter_mm is None else check_range(diameter_mm, "diameter_mm", low=0,
                                                                         low_inclusive=False)
        self.contrast = None if contrast is None else check_range(contrast, "contrast")
        self.contrast_relative = (None if contrast_relative is None
                                  else check_range(contrast_relative, "contrast_relative", low=-1, high=10))
        self.irregularity = check_range(irregularity, "irregularity", low=0, high=1)
        self.texture = check_number(texture, "texture", low=0)
        self.edge_mm = check_number(edge_mm, "edge_mm", low=0)
        self.organ_label = check_number(organ_label, "organ_label", integer=True)
        self.lesion_label = check_number(lesion_label, "lesion_label", low=1, integer=True)
        if self.lesion_label == self.organ_label:
            raise ParameterError(f"lesion_label must differ from organ_label, got {lesion_label!r} for both")

    def _preset(self, ct: bool) -> dict:
        """The preset's values, the given parameters in their place (no preset needed when all are given)."""
        given = {"diameter_mm": self.diameter_mm, "contrast": self.contrast,
                 "contrast_relative": self.contrast_relative}
        needed = ("diameter_mm", "contrast" if ct else "contrast_relative")
        if all(given[k] is not None for k in needed) and self.organ is None:
            return {**given, "region": "soft_tissue" if ct else "signal", "name": "given"}
        preset = dict(lesion_presets.preset(ct, self.organ))
        preset.update({k: v for k, v in given.items() if v is not None})
        preset["name"] = f"{'CT' if ct else 'MR'}/{self.organ or 'soft_tissue'}"
        return preset

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        lay = medical_layout(sample)
        spacing = spacing_mm(sample, lay)
        image = filled_float(sample["image"], sample)
        ct = looks_like_ct(sample)
        preset = self._preset(ct)
        host, region = self.host(sample, image, spacing, preset["region"] if ct else "signal", self.organ_label)
        if not host.any():
            raise UnsupportedInputError(f"{self.name_for_errors()}: no organ (label {self.organ_label}) "
                                        f"or {region.replace('_', ' ')} region to place a lesion in")
        drawn = sample_uniform(rng, preset["diameter_mm"]) / 2.0
        candidates, depth = lesion.candidate_centres(host, drawn, spacing)
        radius = min(drawn, max(depth, min(spacing)))  # a lesion fits its host: never cut by its edge
        centre = np.unravel_index(int(candidates[int(rng.integers(candidates.size))]), host.shape)
        if ct or self.contrast is not None:
            contrast = sample_uniform(rng, preset["contrast"])
        else:
            contrast = sample_uniform(rng, preset["contrast_relative"]) * float(np.mean(image[host], dtype=np.float64))
        return {"centre": [int(c) for c in centre], "radius_mm": radius, "drawn_radius_mm": drawn, "contrast": contrast,
                "irregularity": sample_uniform(rng, self.irregularity), "texture": self.texture * abs(contrast),
                "edge_mm": self.edge_mm, "organ_label": self.organ_label if region == "mask" else None,
                "host_region": region, "preset": preset["name"], "lesion_label": self.lesion_label,
                "seed": draw_seed(rng)}

    @staticmethod
    def host(sample: Mapping[str, Any], image: np.ndarray, spacing, region: str, organ_label: int
             ) -> tuple[np.ndarray, str]:
        """(host voxels, region name): ``organ_label`` of ``mask`` when present ("mask"), else
        :func:`lesion.host_region` of the image; valid voxels only."""
        mask = sample.get("mask")
        organ = mask == organ_label if mask is not None else None
        if organ is None or not organ.any():
            organ = lesion.host_region(image, region, spacing)
        else:
            region = "mask"
        valid = valid_of(sample)
        return (organ & valid if valid is not None else organ), region

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
        elif params.get("host_region") not in (None, "mask"):  # recorded since 2026-12: cut to the host region
            image = filled_float(ctx["image"], ctx)
            alpha *= lesion.host_region(image, str(params["host_region"]), ctx.spacing_mm)[box]
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
