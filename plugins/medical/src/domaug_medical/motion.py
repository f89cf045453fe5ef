"""medical.Motion: rigid patient motion during an MR acquisition (k-space mixing)."""

from __future__ import annotations

from functools import partial
from typing import Any, Mapping

import numpy as np

from domaug.kit import Context, PixelTransform, array_axis, check_range, sample_int, sample_uniform

from . import kspace
from ._base import MedicalMixin, MRArtefactMixin, medical_layout
from .intensity import is_magnitude, read_only_float
from .phase_encoding import check_phase_axis, draw_phase_axis


class Motion(MRArtefactMixin, MedicalMixin, PixelTransform):
    """MR motion artefact: k-space filled in segments while the patient sat in different rigid poses.

    Model: Shaw et al., "MRI k-space motion artefact augmentation", MIDL 2019 — the object
    is rigidly moved to ``num_transforms`` poses; k-space lines along the phase-encoding axis
    are acquired in order (−k_max → +k_max) and each segment comes from the pose held
    at that time; the segment with the k-space centre comes from the original pose so
    that the image stays registered. Only the 1-D FFT along the phase axis is needed.
    Each pose is one in-plane warp (rotation and the translation across the phase axis,
    linear, edges replicated) plus a linear phase ramp on its k-space segment for the
    translation along the phase axis (Fourier shift theorem: exact, and the field of view
    wraps around along the phase axis as in a real acquisition).

    Parameters
    ----------
    degrees : float or (low, high)
        In-plane rotation of each pose, degrees (scalar d means (−d, d)). Default 5.
    translation_mm : float or (low, high)
        Translation of each pose along every axis, mm (scalar t means (−t, t)). Default 5.
    num_transforms : int or (low, high)
        Number of moved poses. Default 2.
    phase_axis : {"auto", "vertical", "horizontal", "depth"}
        Phase-encoding axis (``auto``: meta ROW/COL, else random in-plane).
    p : float
        Probability of applying.

    Targets: image (2-D or 3-D), spacing from ``meta["spacing"]`` (default 1 mm).
    An MR artefact: images whose meta says CT are refused (one line).
    """

    mr_effect = "the k-space motion ghosts"

    def __init__(self, degrees=5.0, translation_mm=5.0, num_transforms=2, phase_axis: str = "auto", p: float = 1.0) -> None:
        super().__init__(p=p)
        self.degrees = self._symmetric(degrees, "degrees")
        self.translation_mm = self._symmetric(translation_mm, "translation_mm")
        self.num_transforms = check_range(num_transforms, "num_transforms", low=1, high=16, integer=True)
        self.phase_axis = check_phase_axis(phase_axis)

    @staticmethod
    def _symmetric(value, name):
        lo, hi = check_range(value, name)
        if lo == hi and not isinstance(value, (tuple, list)):
            lo, hi = -abs(lo), abs(lo)
        return (lo, hi)

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        lay = medical_layout(sample)
        n = sample_int(rng, self.num_transforms)
        poses = [{"angle_deg": sample_uniform(rng, self.degrees),
                  "translation_mm": [sample_uniform(rng, self.translation_mm) for _ in range(lay.spatial_ndim)]}
                 for _ in range(n)]
        boundaries = sorted(float(b) for b in rng.uniform(0.05, 0.95, size=n))
        return {"poses": poses, "boundaries": boundaries,
                "phase_axis": draw_phase_axis(rng, self.phase_axis, sample)}

    def prepare(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> Context:
        ctx = super().prepare(sample, params)
        ctx.phase_axis = array_axis(params["phase_axis"], ctx.layout.spatial_ndim)
        return ctx

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        spacing, axis = ctx.spacing_mm, ctx.phase_axis
        work = read_only_float(image, ctx)  # rigid_copy and mix_segments only read it
        copies, phase_shifts = [work], [0.0]
        for pose in params["poses"]:
            shift_px = [t / s for t, s in zip(pose["translation_mm"], spacing)]
            phase_shifts.append(float(shift_px[axis]))  # along the phase axis: a k-space phase ramp
            shift_px[axis] = 0.0
            copies.append(partial(kspace.rigid_copy, work, angle_deg=float(pose["angle_deg"]), shift_px=shift_px,
                                  spacing=spacing))  # made when its segment is filled
        return kspace.mix_segments(copies, axis=axis, boundaries=params["boundaries"], centre_copy=0,
                                   magnitude=is_magnitude(work), phase_shifts=phase_shifts)
