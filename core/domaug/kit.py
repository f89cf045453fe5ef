"""domaug.kit: everything a plugin author imports, besides :mod:`domaug` itself.

Plugins import only from ``domaug`` and ``domaug.kit`` (checked by import-linter in CI);
every other core module is internal and may change. Grouped by what a transform or a
format needs:

- the contract: :class:`Transform`, :class:`PixelTransform`, :class:`SpatialTransform`,
  :class:`WarpTransform`, :class:`Context`, :func:`register_table`, ``hookimpl``;
- core transforms a plugin specialises: :class:`ElasticDeformation` (medical's works in mm);
- parameters: ``check_*`` at construction, ``sample_*`` / :func:`draw_seed` in ``make_params``;
- the sample: :func:`layout_of`, :func:`valid_of`, :func:`kind_of`, dtype and nodata helpers;
- bands: :class:`BandNaming` (which channel is which band, its wavelength), :func:`footprint`;
- block arithmetic: :func:`row_blocks` (cache-sized blocks of rows), :func:`spread` (a plane over bands);
- physics kernels: smooth random fields, point-spread functions, sRGB curves, resampling;
- formats: the :class:`Format` base, sidecars, windowed I/O for rasters larger than memory.
"""

from __future__ import annotations

from .batch.windowed import apply_windows
from .dtypes import avoid_nodata, finish, full_scale, keep_invalid, restore_dtype, to_float, value_range
from .errors import FormatError, ParameterError, UnsupportedInputError
from .formats.base import Format, WindowedSink, WindowedSource, iter_tiles, sidecar_path
from .formats.common import check_not_empty, check_pixels
from .formats.sidecar import find_sidecars, read_sidecars, write_sidecars
from .hookspecs import hookimpl
from .lazy import lazy_module
from .ops.bands import BandNaming, as_hwc, footprint, require_2d
from .ops.blocks import block_rows, row_blocks, spread
from .ops.color import (
    linear_to_srgb,
    linear_to_srgb16_in_place,
    linear_to_srgb8,
    luminance,
    srgb_codes_to_linear,
    srgb_decode_table,
    srgb_to_linear,
)
from .ops.elastic import control_grid_field
from .ops.fields import fractal_noise, smooth_field
from .ops.geometry import array_axis, is_geographic, transform_bboxes, transform_keypoints, update_meta
from .ops.intensity import pointwise, power_in_place
from .ops.masked import any_valid_hit, copy_where, masked_copy
from .ops.nodata import fill_invalid
from .ops.opencv import MAX_CHANNELS as CV_MAX_CHANNELS
from .ops.opencv import cv2_module, lut8
from .ops.opencv import depth_of as cv_depth_of
from .ops.psf import convolve, gaussian_blur, gaussian_weights, line_kernel, mtf_sigma
from .ops.resample import AffineSampler, resize, scale_matrix, warp_field, warp_image, warp_mask, warp_valid
from .params import (
    check_choice,
    check_number,
    check_range,
    draw_seed,
    sample_int,
    sample_log_uniform,
    sample_uniform,
)
from .plugins import register_table
from .registry import get_transform_class
from .targets import Layout, kind_of, layout_of, valid_of, validate_sample
from .transform import Context, PixelTransform, SpatialTransform, Transform
from .transforms.elastic_deformation import ElasticDeformation
from .warp import WarpTransform, require_plane

__all__ = [
    "AffineSampler",
    "BandNaming",
    "CV_MAX_CHANNELS",
    "Context",
    "ElasticDeformation",
    "Format",
    "FormatError",
    "Layout",
    "ParameterError",
    "PixelTransform",
    "SpatialTransform",
    "Transform",
    "UnsupportedInputError",
    "WarpTransform",
    "WindowedSink",
    "WindowedSource",
    "any_valid_hit",
    "apply_windows",
    "array_axis",
    "as_hwc",
    "avoid_nodata",
    "block_rows",
    "check_choice",
    "check_not_empty",
    "check_number",
    "check_pixels",
    "check_range",
    "control_grid_field",
    "convolve",
    "copy_where",
    "cv2_module",
    "cv_depth_of",
    "draw_seed",
    "fill_invalid",
    "find_sidecars",
    "finish",
    "footprint",
    "fractal_noise",
    "full_scale",
    "gaussian_blur",
    "gaussian_weights",
    "get_transform_class",
    "hookimpl",
    "is_geographic",
    "iter_tiles",
    "keep_invalid",
    "kind_of",
    "layout_of",
    "lazy_module",
    "line_kernel",
    "linear_to_srgb",
    "linear_to_srgb16_in_place",
    "linear_to_srgb8",
    "luminance",
    "lut8",
    "masked_copy",
    "mtf_sigma",
    "pointwise",
    "power_in_place",
    "read_sidecars",
    "register_table",
    "require_2d",
    "require_plane",
    "resize",
    "restore_dtype",
    "row_blocks",
    "sample_int",
    "sample_log_uniform",
    "sample_uniform",
    "scale_matrix",
    "sidecar_path",
    "smooth_field",
    "spread",
    "srgb_codes_to_linear",
    "srgb_decode_table",
    "srgb_to_linear",
    "to_float",
    "transform_bboxes",
    "transform_keypoints",
    "update_meta",
    "valid_of",
    "validate_sample",
    "value_range",
    "warp_field",
    "warp_image",
    "warp_mask",
    "warp_valid",
    "write_sidecars",
]
