"""Snow lying in the scene: where it settles, on the coarse grid of :func:`.scene.coarse_scene`.

Snow settles on upward-facing surfaces that traffic does not clear (von Bernuth, Volk &
Bringmann, ITSC 2019, put it where the surface normal points up; here the pop-up layout
stands in for the normals):

- **the road** (layout ``GROUND``): laid out in ground-plane metres (X across, Z along,
  from the flat-road camera), lanes 3.7 m wide, their lines fitted (offset and heading) to
  the painted lane lines seen within 30 m (else the ego lane centred on, and along, the
  camera axis). The ego lane and its neighbours (none beyond a solid line bounding the ego
  lane: the road's edge) carry two **wheel tracks** each (±0.8 m from the lane centre,
  0.4 m wide, flat-bottomed with ragged edges — ruts, tyre spray — meandering a few cm and
  more or less worn along their length) that traffic keeps darker and wet; the strip
  between a lane's tracks holds thinner slush; snow lies longest between the lanes and on
  the shoulders, so lane markings disappear progressively as ``cover`` grows. Lanes
  farther out are untracked (no fan of tracks across the whole road);
- **verges**: the lateral margins of the ground region (the shoulder, ≈ 1.5 m) are white
  out to a ragged line as soon as snow lies at all, and so are grass verges and slopes that
  the colour-based layout calls vertical (grass-coloured regions below the horizon reaching
  the frame's side); specks and ≤ 2-cell slivers the layout calls vertical inside the road
  (litter, tar lines, the bonnet's edge) are road;
- **objects the layout took for road** (a grey or white car on grey asphalt): runs of cells
  much brighter or darker than the row's road and wider than 0.8 m on the ground (lane
  paint is 0.1–0.3 m), in regions that would stand ≥ 0.4 m tall and fill their box (not a
  tar patch or a concrete strip) are not road and get no road snow. The snow thins over
  ~2 cells towards whatever is not road, so the layout's cell-shaped regions show no
  staircase of white blocks;
- **tops of vertical objects** (layout ``VERTICAL``): a thin cap (one grid cell) where
  the cell above is sky or ground and the image has an edge there too (tree crowns, car
  roofs against the road, wall tops; not the layout's staircase risers), and on strong
  horizontal edges inside them running ≥ 9 cells (roofs, ledges), tapered at their ends; box interiors
  never get more than their roof band. Snow never lies on the rest of a vehicle.

Patches have sharp, ragged edges (the noise thresholded over ±0.05 of its std, its finest
octaves making the edge irregular) and are thicker, whiter, inside. Patchiness is isotropic
value noise (four octaves, 2 m down to 0.12 m cells, each rotated by a random angle) on the conformal (log-polar) map of the image about the vanishing
point: locally isotropic in the image, its features shrink towards the vanishing point as
the road's lateral scale f/Z does. (On the flat road plane itself an isotropic albedo map
is foreshortened Z/h times — 4× at 5 m, 40× at 50 m — into horizontal smears; slush and
patches on a used road are drawn out along the lanes by the traffic, and this map keeps
them round in the image instead.) Each octave is faded by the cell's footprint
(exp(−(footprint/cell)²): a pre-filter), so the far road does not alias into moiré.
No radial or periodic pattern: nothing is indexed by image angle alone or repeated.
"""

from __future__ import annotations

from typing import Any, Mapping, NamedTuple

import numpy as np

from domaug.kit import cv2_module

from .layout import EGO, GROUND, VERTICAL
from .overcast import luma
from .plane_ops import upsample
from .snow_caps import EDGE_CAP, _clear_boxes, object_tops
from .snow_regions import (OBJECT_HEIGHT_M, OBJECT_WIDTH_M, _dilate, _grass_parts, _standing, grass_coloured,
                           objects_on_ground, road_ratio, saturation, side_regions, vegetation)
from .snow_surface import (OCTAVES, Z_MAX_M, _grid_coords, _grid_noise_geometry, _noise, ground_coords,
                           road_surface_coords, surface_noise)
from .snow_tracks import (LANE_WIDTH_M, NEIGHBOUR_LANES, TRACK_EDGE_M, TRACK_EDGE_NOISE_M, TRACK_OFFSET_M,
                          TRACK_RANGE_M, TRACK_WANDER_M, TRACK_WIDTH_M, VERGE_M, lane_bands, lane_frame,
                          lane_tracks, track_edges, tracked_lanes, verge_weight)

__all__ = [
    "EDGE_CAP", "FEATHER_CELLS", "LANE_WIDTH_M", "NEIGHBOUR_LANES", "OBJECT_HEIGHT_M", "OBJECT_WIDTH_M", "OCTAVES",
    "TRACK_EDGE_M", "TRACK_EDGE_NOISE_M", "TRACK_OFFSET_M", "TRACK_RANGE_M", "TRACK_WANDER_M", "TRACK_WIDTH_M",
    "VERGE_M", "Z_MAX_M", "LyingSnow", "grass_coloured", "ground_coords", "lane_bands", "lane_frame", "lane_tracks",
    "lying_snow", "object_tops", "objects_on_ground", "road_ratio", "road_surface_coords", "saturation",
    "side_regions", "surface_noise", "track_edges", "tracked_lanes", "vegetation", "verge_weight",
]

#: Gaussian σ (cells) over which the lying snow thins towards what is not road.
FEATHER_CELLS = 1.5


class LyingSnow(NamedTuple):
    """Lying snow on the coarse grid: ``amount`` (0–1 fraction of each cell covered),
    ``texture`` (zero-mean isotropic ground-plane noise, for the snow's albedo) and
    ``tracks`` (0–1 wheel-track weight on the ground, for the wet darkening) and ``ground``
    (bool: the road surface, without the objects the layout mistook for it)."""

    amount: np.ndarray
    texture: np.ndarray
    tracks: np.ndarray
    ground: np.ndarray


def lying_snow(coarse: Mapping[str, Any], camera: Mapping[str, float], width_px: int, cover: float, seed: int,
               boxes: Any = None, small: np.ndarray | None = None) -> LyingSnow:
    """Where snow lies (see the module docstring), on the grid of ``coarse`` (``cover`` 0–1:
    how much has settled; ``width_px`` the full frame's width; ``boxes`` N×≥4 full-res x0 y0
    x1 y1: their interiors stay clear but for a roof band; ``small`` the linear frame on the
    grid, default ``coarse["small"]``)."""
    labels, k = coarse["labels"], int(coarse["k"])
    small = coarse["small"] if small is None else small
    key = (labels.shape, k, float(camera["focal_length_px"]), float(camera["horizon_row"]),
           float(camera["camera_height_m"]), int(width_px))
    # the noise on every second cell, upsampled (its finest octave spans ≥ 4 cells where it shows)
    tex = upsample(_noise(_grid_noise_geometry(*key), seed), labels.shape)
    horizon_cell = float(camera["horizon_row"]) / k - k // 2 / k
    # the ground and the verges lie below the horizon and the first ground row: the rows above
    # (less a margin for the morphology of objects_on_ground) hold caps only
    ground_rows = np.flatnonzero((labels == GROUND).any(axis=1))
    first = min(int(ground_rows[0]) if len(ground_rows) else labels.shape[0], max(0, int(np.floor(horizon_cell))))
    r0 = max(0, first - 8)
    amount = np.zeros(labels.shape, dtype=np.float32)
    tracks = np.zeros(labels.shape, dtype=np.float32)
    ground = np.zeros(labels.shape, dtype=bool)
    x, z, foot = (a[r0:] for a in _grid_coords(*key)[:3])
    _ground_snow(labels[r0:], small[r0:], x, z, foot, tex[r0:], horizon_cell - r0, float(cover),
                 amount[r0:], tracks[r0:], ground[r0:], seed)
    caps = object_tops(labels, small) * np.float32(min(1.0, 1.2 * cover))
    amount = np.maximum(amount, caps)
    if boxes is not None and len(boxes):
        _clear_boxes(amount, np.asarray(boxes, dtype=np.float64)[:, :4] / k, cover)
    return LyingSnow(amount, tex, tracks, ground)


def _ground_snow(labels: np.ndarray, small: np.ndarray, x: np.ndarray, z: np.ndarray, foot: np.ndarray,
                 tex: np.ndarray, horizon_cell: float, cover: float, amount: np.ndarray, tracks: np.ndarray,
                 ground: np.ndarray, seed: int = 0) -> None:
    """Into ``amount``, ``tracks`` and ``ground`` (views of :func:`lying_snow`'s outputs, zero
    on entry): the snow on the road, its verges and wheel tracks and on grass slopes, for the
    rows of the grid given (``x``, ``z``, ``foot``: their ground coordinates, ``tex`` the noise,
    ``horizon_cell`` the horizon in their own rows)."""
    ego = labels == EGO
    y, road_sat, parts, verge_grass = _road_cells(labels, small, x, ego, ground)
    ratio = road_ratio(ground, y)
    shift, heading = lane_frame(ground, ratio, x, z)
    xl = x - np.float32(shift) - np.float32(heading) * z  # lane coordinates: lines on the painted ones
    lanes = tracked_lanes(ground & (ratio > 2.5), xl, z)
    ground_like = ground | vegetation(labels, small, horizon_cell, road_sat, parts)
    inner = _wheel_tracks(xl, z, foot, tex, lanes, ground, verge_grass, seed, tracks)
    _settle(amount, ground, ground_like, ego, x, tex, tracks, inner, cover)


def _road_cells(labels: np.ndarray, small: np.ndarray, x: np.ndarray, ego: np.ndarray,
                ground: np.ndarray) -> tuple:
    """Into ``ground``: the road surface (the layout's ground, with its slivers and specks,
    without the objects it mistook for road). Returns (luminance, the road's saturation when
    it is itself grass-coloured else 0, :func:`_grass_parts`, the grass verges it calls ground)."""
    # slivers ≤ 2 cells tall that the layout calls vertical between road (or the bonnet) above
    # and below are road (seams, tar lines, the bonnet's edge): no jagged unsnowed dashes
    free = labels == GROUND
    up1, up2, down1, down2 = (_within(free, n, below=b) for b in (False, True) for n in (1, 2))
    vert = labels == VERTICAL
    ground[...] = free | (vert & ((up1 & down2) | (up2 & down1)))
    # ... and so are specks (≤ 16 cells) the layout calls vertical that would stand < 0.3 m
    # (leaves, litter), but not what touches the ego vehicle (its bonnet's wings)
    near_ego = _dilate(ego, (3, 3)) if ego.any() else None
    ground |= vert & ~_standing(vert, x, 0.3, anchor=near_ego, max_cells=16)
    y = luma(small)
    road_sat = 0.0  # a road that is itself grass-coloured (tan asphalt): grass must stand out from it
    parts = _grass_parts(small)
    if ground.any() and grass_coloured(small, parts=parts)[ground].mean() > 0.5:
        road_sat = float(np.median(parts[1][ground]))
    verge_grass = side_regions(ground & grass_coloured(small, road_sat, parts))  # a grass verge the layout calls ground
    ground &= ~(objects_on_ground(ground, y, x, near_ego) & ~verge_grass)  # is no car, and has no wheel tracks
    return y, road_sat, parts, verge_grass


def _wheel_tracks(xl: np.ndarray, z: np.ndarray, foot: np.ndarray, tex: np.ndarray, lanes: tuple[int, int],
                  ground: np.ndarray, verge_grass: np.ndarray, seed: int, tracks: np.ndarray) -> np.ndarray:
    """Into ``tracks``: the wheel tracks' weight at lane coordinates (``xl``, ``z``) on the road
    (not on a grass verge). Returns the weight of the slush between a lane's two tracks."""
    near = int(np.searchsorted(-z[:, 0], -TRACK_RANGE_M))  # rows nearer than that: the tracks resolve there
    edge, wander, stretch = np.zeros_like(xl), np.zeros_like(xl), np.zeros_like(xl)
    edge[near:], wander[near:], stretch[near:] = track_edges(xl[near:], z[near:], foot[near:], seed)
    # the tracks, and the slush between a lane's two tracks (churned by the cars' bodies:
    # thinner than between lanes); both marks vary along the lanes (slush bridges, less used
    # stretches)
    wheel, inner = lane_bands(xl + wander, foot, edge, lanes)
    traffic = np.clip(np.float32(0.6) + np.float32(0.4) * tex + np.float32(0.5) * stretch, 0.1, 1.0)
    np.multiply(wheel * traffic, ground & ~verge_grass, out=tracks)
    inner *= traffic * ground
    return inner


def _settle(amount: np.ndarray, ground: np.ndarray, ground_like: np.ndarray, ego: np.ndarray, x: np.ndarray,
            tex: np.ndarray, tracks: np.ndarray, inner: np.ndarray, cover: float) -> None:
    """Into ``amount``: the snow on the road (patches, thinned on the tracks and between them),
    its shoulders and the grass slopes (``ground_like`` beyond ``ground``), feathered towards
    what is not road."""
    patch = np.float32(0.3) * tex
    # patches with sharp, irregular edges: covered where the noise exceeds a threshold set by
    # ``cover`` (about a third of the untracked road at 0.2, nearly all at 0.9), edges of
    # ±0.1 noise std (the finest octaves make them ragged); thicker, whiter, inside
    # traffic clears the tracks first and the strip between them next: snow stays longest
    # between the lanes (over the lines) and on the shoulders
    margin = np.float32(0.55) * tex + np.float32(2.5 * (cover - 0.35)) + np.float32(0.8) * (
        np.float32(0.5) - tracks - np.float32(0.3) * inner)
    untracked = np.clip(np.float32(0.5) + np.float32(10.0) * margin, 0.0, 1.0)
    untracked *= np.clip(np.float32(0.8) + np.float32(0.4) * margin, 0.0, 1.0)
    road = untracked * (1.0 - tracks * np.float32(1.0 - 0.8 * cover)) * (1.0 - inner * np.float32(0.35 * (1.0 - cover)))
    # the shoulder: untracked snow out to a ragged line (wider as more settles), not a ramp
    reach = verge_weight(ground, x) - np.float32(0.5) + np.float32(0.3) * tex + np.float32(0.5 * (cover - 0.5))
    verge = np.clip(np.float32(0.5) + np.float32(5.0) * reach, 0.0, 1.0) * np.clip(
        np.float32(3.5 * cover) + patch, 0.0, 1.0)
    amount[...] = np.where(ground, np.maximum(road, verge), 0.0)
    amount[...] = np.where(ground_like & ~ground, np.clip(np.float32(2.0 * cover) + patch, 0.0, 1.0), amount)
    # the layout's regions are cell-shaped: the snow thins over ~2 cells towards what is not
    # road (objects, the far end's trees and barriers; not the bonnet) instead of a staircase
    amount *= _soft(ground_like | ego, FEATHER_CELLS)


def _within(mask: np.ndarray, n: int, below: bool) -> np.ndarray:
    """Cells with a ``mask`` cell among the ``n`` cells below (``below``) or above them."""
    out = np.zeros_like(mask)
    for i in range(1, n + 1):
        if below:
            out[:-i] |= mask[i:]
        else:
            out[i:] |= mask[:-i]
    return out


def _soft(mask: np.ndarray, sigma: float) -> np.ndarray:
    """``mask`` as float32 blurred by a Gaussian of ``sigma`` cells, zero outside ``mask``
    (edges replicated: the frame's border is no edge)."""
    m = mask.astype(np.float32)
    cv2 = cv2_module()
    if cv2 is not None and m.size and m.shape[1] < 32768:
        soft = cv2.GaussianBlur(m, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    else:
        from scipy.ndimage import gaussian_filter

        soft = gaussian_filter(m, sigma, mode="nearest")
    return soft * m
