"""medical.ElasticDeformation: soft-tissue deformation in millimetres, 2-D slices and 3-D volumes."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.kit import ElasticDeformation as CoreElasticDeformation
from domaug.kit import UnsupportedInputError, check_number, check_range, control_grid_field, draw_seed, sample_uniform

from ._base import medical_layout, spacing_mm


class ElasticDeformation(CoreElasticDeformation):
    """Soft-tissue deformation: a smooth random displacement field with a maximum in millimetres.

    Model: free-form deformation with cubic B-splines (Rueckert et al., IEEE TMI 18(8), 1999),
    the core kernel ``domaug.ops.elastic``: ``n_control`` points per axis get random
    vectors inside a *physical* ball of radius ``max_displacement_mm``; per axis the bound
    in voxels is ``max_displacement_mm / spacing`` (anisotropic voxels respected, e.g. 5 mm
    slices move 5× less in voxels than 1 mm rows), and the B-spline is a convex combination
    so the maximum is never exceeded. One field for the whole volume, so structures stay
    continuous across slices. Images are resampled linearly (order 1), label maps and
    ``valid`` with nearest neighbour (no new labels); uncovered voxels get the image's
    minimum (air/background) unless ``fill`` is given, labels get ``mask_fill``.

    Parameters
    ----------
    max_displacement_mm : float or (low, high)
        Largest displacement, mm (spacing from ``meta["spacing"]``, default 1 mm). Default 2–8.
    n_control : int
        Control points along the physically longest axis (>= 4; default 6); shorter axes get
        proportionally fewer (at least 2) so the control grid is about isotropic in mm (a
        thin stack of 5 mm slices is not bent slice by slice). Keep the maximum below about
        half the control spacing in mm to avoid folding.
    order : int
        Image interpolation: 0, 1 (default) or 3.
    fill : float, optional
        Image value for uncovered voxels (default: the image minimum).
    mask_fill : int
        Label for uncovered mask voxels (default 0).
    p : float
        Probability of applying.

    Targets: image, mask / ``*_mask``, valid, fields, meta (unchanged grid); 2-D boxes and
    keypoints on slices.
    """

    prefer_volume = True

    def __init__(self, max_displacement_mm: Any = (2.0, 8.0), n_control: int = 6, order: int = 1,
                 fill: float | None = None, mask_fill: int = 0, p: float = 1.0) -> None:
        super().__init__(max_displacement_mm=max_displacement_mm, n_control=n_control, order=order,
                         fill=0.0 if fill is None else fill, mask_fill=mask_fill, p=p)
        self.max_displacement = check_range(max_displacement_mm, "max_displacement_mm", low=0)
        self.fill_value = None if fill is None else float(check_number(fill, "fill"))

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        lay = medical_layout(sample)
        spacing = spacing_mm(sample, lay)
        magnitude = sample_uniform(rng, self.max_displacement)
        fill = self.fill_value
        if fill is None:
            image = sample["image"]
            fill = float(np.nanmin(image)) if image.size else 0.0
        extent = [n * s for n, s in zip(lay.spatial_shape, spacing)]
        n_control = [int(min(self.n_control, max(2, round(self.n_control * e / max(extent))))) for e in extent]
        return {"seed": draw_seed(rng), "max_disp_px": [magnitude / s for s in spacing],
                "max_displacement_mm": magnitude, "n_control": n_control, "order": self.order,
                "fill": fill, "mask_fill": self.mask_fill}

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
