"""Scene geometry for the driving transforms: metric distance per pixel, measured or assumed.

When the sample carries a ``depth`` target (metres, e.g. from stereo or lidar) it is used
as is, except its holes (NaN or 0: no data, as KITTI's 0 and Cityscapes' invalid disparity
become when read by :mod:`.depth_io`), which take the prior below scaled to the measurements
nearby (:mod:`.depth_fill`), and ``+inf`` (infinitely far), which becomes sky depth.
Otherwise :func:`scene_depth` builds a documented prior from a flat-road camera model
(Hautière et al., MVA 2006; Tarel & Hautière, ICCV 2009):

- **road**: a pixel in row ``v`` below the horizon row ``v_h`` sees the ground at
  ``Z = f·h / (v + 0.5 − v_h)`` (focal length ``f`` px, camera height ``h`` m);
- **sky**: bright, smooth pixels above the horizon connected to the top edge (or the
  pixels of a ``sky_mask``) are at :data:`SKY_DEPTH_M` (10 km: fog turns them into airlight);
- **other pixels** (cars, trees, buildings, signs): with the image, they stand on the
  ground (the scene layout below); with masks only, those above the horizon are capped at
  ``cap_m`` (300 m by default), as is the road close to the horizon;
- **labelled boxes** stand on the road like billboards: the whole box takes the depth
  of its bottom edge, ``Z = f·h / (y_max − v_h)`` — without this, a car 30 m ahead would
  be given the sky's depth above the horizon and vanish in 300 m fog;
- a ``road_mask`` forces the ground-plane depth on its pixels;
- finally ``Z`` becomes the distance along the ray, ``ℓ = Z·√(1 + ((u−c_x)/f)² + ((v−v_h)/f)²)``,
  which is what Koschmieder's law needs.

**Scene layout** (:func:`scene_layout`, used whenever the image is available and no
``depth`` is given): the "pop-up" / billboard scene of Hoiem, Efros & Hebert (SIGGRAPH
2005, *Automatic Photo Pop-up*) on that flat-road camera, computed on a ≈256 px grid and
upsampled. Labels (uint8) :data:`SKY`, :data:`GROUND`, :data:`VERTICAL`, :data:`EGO`:

- **ground** (:data:`GROUND`): below the horizon and coloured like the road. The road's
  colour is the median of a seed band (rows 25–50 % of the way from the horizon to the
  bottom, central 40 % of the columns; its cells within ×0.6–1.5 of its 75th-percentile
  luminance, so that a cast shadow over the seed is not taken for the road); a pixel is
  road-like when its luminance is within ×0.45…×6 of it, its chromaticity within 0.1
  (asphalt far away is brighter and warmer) and its local texture at most twice the road's
  (not required in the first 10 % of the rows below the horizon, where perspective packs
  the road's texture; there a cell is at most 1.8× the 75th percentile of its row's road
  cells: a white car stands out of its row); only road-like
  components reaching the bottom of the visible road or covering ≥ 1 % of the frame count
  (joined only through runs ≥ 3 cells wide: a barrier's road-coloured panels hang on the road
  by a 1–2-cell seam);
  vertical gaps of ≤ 2 % of the height (lane paint, JPEG blocks) are closed. Under a clear
  (blue) sky, cast shadows on the road — ×0.03–0.45 of its luminance, no redder and not
  less blue (lit by the sky alone), smooth, between the road's edges in their row and
  touching it — are ground too (a wall's shaded face beside the road is not); lane paint —
  runs ≤ 0.6 m wide at their row's distance, ground on both sides, mostly brighter than the
  road — is ground (:mod:`.ground_cues`). Its distance
  is the flat-road one, ``Z = f·h / (v + 0.5 − v_h)``, capped at ``cap_m``;
- **sky** (:data:`SKY`): :func:`depth.sky_from_small` (bright, smooth, not green,
  connected to the top edge; a bluish sky dithered cell to cell by a colour-quantised
  frame counts as smooth at the 3-cell scale; under a blue sky, small cells of its exact
  colour seen through a canopy are sky) or the given ``sky_mask``; at ``sky_depth_m``;
- **ego** (:data:`EGO`): the hood or dashboard, a band at the bottom of the frame (searched
  in the bottom 40 %) below the first row, from the bottom edge up, where ≥ 30 % of the
  pixels are road-like, or below a horizontal edge crossing ≥ half the width that is ≥ 4×
  stronger than the road's rows (a grey dashboard under an overcast sky looks like road), extended per
  column through non-road pixels by up to 4 % of the height to follow its curved edge, and
  up to 15 % through a bright (≥ 2× the road), smooth hood at least 20 % of the width wide
  (a white bonnet bulging into view, as Boreas'; gaps under 3 % of the width, a vent or a seam, bridged);
  such a bonnet's outline, its wings included, is followed as one curve falling from its crest to both
  sides through its light, neutral cells (≥ 2.5× the road, B share ≥ 0.225: not yellow lane paint; paint
  narrower along the rows than 5 % of the width opened away), and at full resolution its edge is put on
  the frame's own by the guided filter. It is neither ground nor sky; it gets the distance of the nearest
  visible ground row;
- **vertical** (:data:`VERTICAL`): everything else stands on the ground. In each column a
  vertical pixel takes the ground distance of its contact row, the nearest ground pixel
  below it (scanning down the column); contact rows are filtered across the width (a
  horizontal closing over 12 %, so that a crown overhanging the far road beyond its trunk
  keeps the trunk's distance, then an opening over 5 %, removing narrower near spikes) so
  that a car gets one distance, that of its wheels, and trees and walls the distance of
  their foot; then blended along each row over ±4 % of the width by a guided filter on the
  image's luminance (He et al. 2013), only ever nearer, so that a crown standing over a near
  and a far contact takes a ramp instead of a step (a car's outline keeps its own rows).
  A column with no ground below stands at the bottom row.

Labelled boxes pin their objects: the box takes the flat-road distance of its bottom
edge and is never sky. Limits (the price of a colour rule instead of a learned
classifier): a verge or field coloured unlike the road counts as vertical and stands at
the road edge (too near), the background seen above a near object in its columns, or
through a gap narrower than 12 % of the width between near objects, takes their distance,
and an object whose columns run down to the far road at the horizon over a wider span
stands there (a step in the fog across it).

Camera defaults scale with the image: ``f = 0.9·W`` (the Udacity dash-cam: 1152 px at
1280 px wide), ``v_h = 0.58·H`` (its horizon at row ≈ 420 of 720), ``h = 1.3 m``. Each can
be given as a transform parameter or in ``meta`` (``focal_length_px``, ``horizon_row``,
``camera_height_m``).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from .camera import (  # noqa: F401  (the public names of the scene geometry live on in this module)
    CAMERA_HEIGHT_M,
    CAP_M,
    FOCAL_PER_WIDTH,
    HORIZON_PER_HEIGHT,
    SKY_DEPTH_M,
    camera_from,
    camera_of,
    check_camera_args,
    depth_from_disparity,
    estimate_horizon,
    ground_plane_depth,
    ray_factor,
    stand_boxes,
)
from .depth_fill import fill_holes
from .layout import EGO, GROUND, LAYOUT_GRID_PX, SKY, VERTICAL, Layout, layout_from_small, scene_layout  # noqa: F401
from .sky import estimate_sky, estimate_sky_encoded, label_components, sky_from_small  # noqa: F401

__all__ = ["CAMERA_HEIGHT_M", "CAP_M", "EGO", "FOCAL_PER_WIDTH", "GROUND", "HORIZON_PER_HEIGHT",
           "LAYOUT_GRID_PX", "Layout", "SKY", "SKY_DEPTH_M", "VERTICAL", "camera_from", "camera_of",
           "check_camera_args", "depth_from_disparity", "depth_of_sample", "estimate_horizon",
           "estimate_sky", "estimate_sky_encoded", "ground_plane_depth", "label_components",
           "layout_from_small", "ray_factor", "scene_depth", "scene_layout", "sky_from_small", "stand_boxes"]


def scene_depth(
    shape: tuple[int, int],
    *,
    camera: Mapping[str, float],
    depth: np.ndarray | None = None,
    linear_rgb: np.ndarray | None = None,
    bboxes: np.ndarray | None = None,
    sky_mask: np.ndarray | None = None,
    road_mask: np.ndarray | None = None,
    cap_m: float = CAP_M,
    sky_depth_m: float = SKY_DEPTH_M,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Distance along each pixel's ray (m, float32 H×W): the ``depth`` target or the prior.

    ``camera`` is a :func:`camera_from` dict. ``linear_rgb`` enables sky estimation;
    ``sky_mask``/``road_mask`` (nonzero = sky/road) replace or refine it. A given
    ``depth`` is used as is, except its holes (NaN, ≤ 0: no data), which take the prior of the
    other arguments, and values beyond ``sky_depth_m`` (+inf included), which become sky depth.
    The prior is written to ``out`` (C-contiguous float32 H×W) when given, else a new array.
    """
    if depth is not None:
        d = np.array(depth, dtype=np.float32)
        if not (d > 0).all():  # holes (NaN compares False): the prior, scaled to the measurements nearby
            prior = scene_depth(shape, camera=camera, linear_rgb=linear_rgb, bboxes=bboxes, sky_mask=sky_mask,
                                road_mask=road_mask, cap_m=cap_m, sky_depth_m=sky_depth_m)
            d = fill_holes(d, prior, sky_depth_m=sky_depth_m)
        return np.minimum(d, sky_depth_m)
    if linear_rgb is not None:  # appearance: the pop-up layout (objects stand on the ground)
        lay = scene_layout(linear_rgb, camera=camera, bboxes=bboxes, sky_mask=sky_mask, road_mask=road_mask,
                           cap_m=cap_m, sky_depth_m=sky_depth_m)
        if out is None:
            return lay.depth
        np.copyto(out, lay.depth)
        return out
    f = camera["focal_length_px"]
    vh = camera["horizon_row"]
    ch = camera["camera_height_m"]
    z = np.empty(shape, dtype=np.float32) if out is None else out
    np.copyto(z, ground_plane_depth(shape, focal_length_px=f, horizon_row=vh, camera_height_m=ch, cap_m=cap_m))
    if road_mask is not None:
        z_road = ground_plane_depth(shape, focal_length_px=f, horizon_row=vh, camera_height_m=ch, cap_m=sky_depth_m)
        np.copyto(z, z_road, where=road_mask != 0)
    has_boxes = bboxes is not None and len(bboxes)
    if has_boxes:
        stand_boxes(z, bboxes, camera, cap_m)
    sky = None
    if sky_mask is not None:
        sky = sky_mask != 0
    elif linear_rgb is not None:
        sky = estimate_sky(linear_rgb, vh)
    z *= ray_factor(tuple(shape), float(f), float(vh))
    if sky is not None:
        if has_boxes:
            for x0, y0, x1, y1 in np.asarray(bboxes, dtype=np.float64)[:, :4]:  # boxes are never sky
                sky[int(max(y0, 0)) : int(max(np.ceil(y1), 0)), int(max(x0, 0)) : int(max(np.ceil(x1), 0))] = False
        if road_mask is not None:
            sky = sky & (road_mask == 0)
        np.copyto(z, np.float32(sky_depth_m), where=sky)
    return z


def depth_of_sample(
    sample: Mapping[str, Any],
    camera: Mapping[str, float],
    linear_rgb: np.ndarray | None = None,
    *,
    cap_m: float = CAP_M,
    use_boxes: bool = True,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """:func:`scene_depth` (and its ``out``) fed from a sample's ``depth``, ``bboxes``, ``sky_mask``, ``road_mask``.

    Without a ``depth`` target the distance is the :func:`scene_layout` of ``linear_rgb``
    when given, else of the sample's own (encoded) image, decoding only the grid it reads.
    """
    shape = tuple(sample["image"].shape[:2])
    sky_mask = sample.get("sky_mask")
    depth = sample.get("depth")
    if depth is not None and linear_rgb is None and not (np.asarray(depth) > 0).all():  # holes: the layout
        prior = depth_of_sample({k: v for k, v in sample.items() if k != "depth"}, camera, cap_m=cap_m,
                                use_boxes=use_boxes)
        depth = fill_holes(depth, prior, sky_depth_m=SKY_DEPTH_M)
    if depth is None and linear_rgb is None:  # the layout of the encoded image
        lay = scene_layout(sample["image"], camera=camera, meta=sample.get("meta"),
                           bboxes=sample.get("bboxes") if use_boxes else None, sky_mask=sky_mask,
                           road_mask=sample.get("road_mask"), cap_m=cap_m)
        if out is None:
            return lay.depth
        np.copyto(out, lay.depth)
        return out
    return scene_depth(
        shape,
        camera=camera,
        depth=depth,
        linear_rgb=linear_rgb,
        bboxes=sample.get("bboxes") if use_boxes else None,
        sky_mask=sky_mask,
        road_mask=sample.get("road_mask"),
        cap_m=cap_m,
        out=out,
    )


# --- Scene layout (pop-up model) -------------------------------------------------------

