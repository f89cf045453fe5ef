"""The medical base: 3-D arrays are volumes, images are grayscale, spacing is in millimetres."""

from __future__ import annotations

from typing import Any, Mapping

from domaug.kit import Context, Layout, UnsupportedInputError, layout_of

#: Spacing assumed (mm per pixel, every axis) when meta carries none.
DEFAULT_SPACING_MM = 1.0


def medical_layout(sample: Mapping[str, Any]) -> Layout:
    """Layout with 3-D arrays read as D×H×W volumes unless meta says otherwise."""
    return layout_of(sample, prefer_volume=True)


def spacing_mm(sample: Mapping[str, Any], lay: Layout | None = None) -> tuple[float, ...]:
    """Spacing per spatial axis in mm from ``meta["spacing"]`` (default 1 mm).

    A 2-entry spacing on a volume is read as in-plane (rows, cols) with 1 mm slices.
    """
    lay = lay or medical_layout(sample)
    meta = sample.get("meta") or {}
    spacing = meta.get("spacing")
    n = lay.spatial_ndim
    if spacing is None:
        return (DEFAULT_SPACING_MM,) * n
    values = [float(s) for s in spacing]
    if len(values) == n:
        return tuple(values)
    if len(values) == 2 and n == 3:
        return (DEFAULT_SPACING_MM, values[0], values[1])
    if len(values) == 3 and n == 2:
        return tuple(values[-2:])
    return (DEFAULT_SPACING_MM,) * n


def check_grayscale(transform_name: str, sample: Mapping[str, Any]) -> Layout:
    """Refuse multi-channel inputs (RGB ultrasound, secondary captures)."""
    lay = medical_layout(sample)
    if lay.has_channels:
        raise UnsupportedInputError(
            f"{transform_name} works on a grayscale slice (H×W) or volume (D×H×W), "
            f"got {lay.n_channels} channels; convert the image to grayscale first"
        )
    return lay


def refuse_ct(transform_name: str, sample: Mapping[str, Any], what: str) -> None:
    """One line refusing an MR acquisition artefact on an image ``meta["modality"]`` says is CT."""
    modality = str((sample.get("meta") or {}).get("modality") or "").upper()
    if modality == "CT":
        raise UnsupportedInputError(f"{transform_name} models {what} of MR acquisition; the image is CT "
                                    "(meta modality), where it does not occur")


class MRArtefactMixin:
    """Refuses images whose meta says CT: k-space and coil artefacts exist only in MR.
    Mix in first: ``class Spike(MRArtefactMixin, MedicalMixin, PixelTransform)``; set ``mr_effect``."""

    mr_effect = "an artefact"

    def check_input(self, sample: Mapping[str, Any]) -> None:
        super().check_input(sample)  # type: ignore[misc]
        refuse_ct(self.name_for_errors(), sample, self.mr_effect)  # type: ignore[attr-defined]


class MedicalMixin:
    """What every medical transform shares: a 3-D array is a D×H×W volume (not H×W×C),
    multi-channel images are refused, and ``prepare`` gives the call's voxel spacing in mm
    (``ctx.spacing_mm``, one value per spatial axis; 1 mm where meta has none).

    Mix in before the core base: ``class Blur(MedicalMixin, PixelTransform)``.
    """

    prefer_volume = True

    def check_input(self, sample: Mapping[str, Any]) -> None:  # type: ignore[override]
        super().check_input(sample)  # type: ignore[misc]
        check_grayscale(self.name_for_errors(), sample)  # type: ignore[attr-defined]

    def prepare(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> Context:
        ctx = super().prepare(sample, params)  # type: ignore[misc]
        ctx.spacing_mm = spacing_mm(ctx, ctx.layout)
        return ctx
