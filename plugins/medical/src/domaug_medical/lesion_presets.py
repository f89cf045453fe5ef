"""Lesion size and contrast by modality and host organ, from the radiology literature.

Values are typical ranges as I recall them from the cited sources (not looked up here);
they are defaults, every one can be overridden by the transform's parameters.

CT contrasts are in HU relative to the host organ (lesion − organ); MR contrasts are
fractions of the organ's mean intensity (MR has no absolute scale).
"""

from __future__ import annotations

from typing import Any

from domaug.kit import ParameterError, UnsupportedInputError

#: Organ names accepted by ``SyntheticLesion(organ=...)``.
ORGANS = ("soft_tissue", "liver", "lung", "brain")

#: (modality, organ) → diameter (mm), contrast range, the region searched without a mask, reference.
PRESETS: dict[tuple[str, str], dict[str, Any]] = {
    ("CT", "soft_tissue"): {
        "diameter_mm": (6.0, 20.0), "contrast": (-60.0, -20.0), "region": "soft_tissue",
        "reference": "generic hypodense soft-tissue lesion (as liver, below)"},
    ("CT", "liver"): {
        "diameter_mm": (5.0, 30.0), "contrast": (-60.0, -20.0), "region": "soft_tissue",
        "reference": "hypovascular metastases in the portal-venous phase, 20–60 HU below enhanced liver "
                     "(~100 HU); sizes of the LiTS lesions, mostly 5–30 mm (Bilic et al., Med Image Anal 84, 2023)"},
    ("CT", "lung"): {
        "diameter_mm": (4.0, 20.0), "contrast": (750.0, 900.0), "region": "lung",
        "reference": "solid pulmonary nodules, 0–50 HU in lung of −850 HU; Fleischner sizes < 6, 6–8, > 8 mm "
                     "(MacMahon et al., Radiology 284(1):228, 2017)"},
    ("CT", "brain"): {
        "diameter_mm": (5.0, 30.0), "contrast": (-15.0, -5.0), "region": "soft_tissue",
        "reference": "hypoattenuation of early ischaemia / vasogenic oedema, a few to 15 HU below parenchyma "
                     "(the subtle change ASPECTS scores; Barber et al., Lancet 355:1670, 2000)"},
    ("MR", "soft_tissue"): {
        "diameter_mm": (6.0, 20.0), "contrast_relative": (-0.4, -0.15), "region": "signal",
        "reference": "generic hypointense lesion"},
    ("MR", "liver"): {
        "diameter_mm": (5.0, 30.0), "contrast_relative": (-0.4, -0.15), "region": "signal",
        "reference": "T1-hypointense metastases, 15–40 % below liver"},
    ("MR", "brain"): {
        "diameter_mm": (3.0, 15.0), "contrast_relative": (0.2, 0.6), "region": "signal",
        "reference": "T2/FLAIR-hyperintense white-matter lesions ≥ 3 mm (MAGNIMS: Filippi et al., "
                     "Lancet Neurol 15:292, 2016), 20–60 % above white matter"},
}


def check_organ(organ: Any) -> str | None:
    """``organ`` validated (None = the generic soft-tissue lesion)."""
    if organ is None:
        return None
    if organ not in ORGANS:
        raise ParameterError(f"organ must be one of {list(ORGANS)} or None, got {organ!r}")
    return str(organ)


def preset(ct: bool, organ: str | None) -> dict[str, Any]:
    """The preset of this modality (CT, else MR-like) and organ; one line when there is none."""
    modality = "CT" if ct else "MR"
    key = (modality, organ or "soft_tissue")
    if key not in PRESETS:
        raise UnsupportedInputError(
            f"medical.SyntheticLesion has no {modality} preset for organ {organ!r}; give diameter_mm and "
            f"{'contrast' if ct else 'contrast_relative'}, or one of "
            f"{sorted(o for m, o in PRESETS if m == modality)}")
    return PRESETS[key]
