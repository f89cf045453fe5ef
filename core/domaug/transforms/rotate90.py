"""core.Rotate90: rotate by quarter turns in the image plane."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import ParameterError, UnsupportedInputError
from ..ops import geometry, opencv
from ..transform import Context, SpatialTransform


class Rotate90(SpatialTransform):
    """Rotate counter-clockwise by ``k`` quarter turns in the row/column plane.

    Exact re-indexing (``numpy.rot90``), no interpolation. Non-square images swap height
    and width; boxes, keypoints and the geotransform follow.

    Parameters
    ----------
    k : int or list of int
        Quarter turns (0–3), or a list to draw from. Default: any of 1, 2, 3.
    """

    def __init__(self, k: int | Sequence[int] = (1, 2, 3), p: float = 1.0) -> None:
        super().__init__(p=p)
        choices = [k] if isinstance(k, int) else list(k)
        if not choices or any(not isinstance(v, int) or not 0 <= v <= 3 for v in choices):
            raise ParameterError(f"k must be an integer 0-3 or a list of them, got {k!r}")
        self.ks = choices

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        k = self.ks[0] if len(self.ks) == 1 else self.ks[int(rng.integers(len(self.ks)))]
        return {"k": k}

    def _rotate(self, array: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        axes = (0, 1) if ctx.layout.spatial_ndim == 2 else (1, 2)
        return opencv.rot90(array, params["k"], axes)

    apply_to_image = apply_to_mask = apply_to_field = apply_to_valid = _rotate

    def _matrix(self, params: Mapping[str, Any], ctx: Context) -> tuple[np.ndarray, tuple]:
        lay = ctx.layout
        plane = lay.spatial_shape[-2:]
        m2 = geometry.rot90_matrix(plane, params["k"])
        out_plane = plane if params["k"] % 2 == 0 else plane[::-1]
        return geometry.embed_2d(m2, lay.spatial_ndim), tuple(out_plane)

    def apply_to_bboxes(self, bboxes: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        if ctx.layout.is_volume:
            raise UnsupportedInputError("bboxes are 2-D; they cannot accompany a volume")
        m, out_shape = self._matrix(params, ctx)
        return geometry.transform_bboxes(bboxes, m, out_shape)

    def apply_to_keypoints(self, keypoints: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        if ctx.layout.is_volume:
            raise UnsupportedInputError("keypoints are 2-D (x, y); they cannot accompany a volume")
        m, out_shape = self._matrix(params, ctx)
        return geometry.transform_keypoints(keypoints, m, out_shape)

    def apply_to_meta(self, meta: Mapping[str, Any], params: Mapping[str, Any], ctx: Context) -> dict:
        m, _ = self._matrix(params, ctx)
        return geometry.update_meta(meta, m, ctx.layout.spatial_ndim)
