"""driving.SunGlare: a low sun in the sky (or just above the frame) — veiling glare and lens ghosts."""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from domaug.kit import Context, ParameterError, check_number, check_range, sample_int, sample_uniform

from . import radiometry
from .base import DrivingTransform
from .depth import camera_of, check_camera_args
from .flare import GLARE_REF_DEG, add_ghost, ghost_centre, glare_field, saturate_disc, shoulder, sun_direction
from .layout import SKY, VERTICAL
from .scene import GRID_PX, clip_max, coarse_sky, scale_add
from .scene_fill import scene_of
from .sun_position import SUN_RADIUS_DEG, pixel_angles, place_sun, relative_azimuth, sun_pixel

__all__ = ["SunGlare", "sun_pixel"]

#: Ghost tints (anti-reflection coatings leave green, amber and violet reflections).
GHOST_TINTS = ((0.6, 1.0, 0.7), (1.0, 0.8, 0.5), (0.8, 0.6, 1.0), (0.7, 0.9, 1.0))
#: Colour of a low sun's glare (reddened by the long air mass).
WARM = (1.0, 0.93, 0.8)


class SunGlare(DrivingTransform):
    """Sun glare: a saturated sun in the sky, the veiling glare around it, and lens ghosts.

    Model: veiling glare falls off as 1/θ² from the sun (Stiles–Holladay; CIE 146:2002
    L_veil = 10·E/θ²) over a uniform veil that lifts the blacks; ghosts are soft,
    aperture-shaped discs on the line through the sun and the optical centre (Wu et al.,
    ICCV 2021). The sun shines only from sky: its centre is drawn among the clear-sky
    pixels of the scene layout (Hoiem et al. 2005 pop-up labels, eroded by 3 disc radii)
    or placed above the frame top, where only the glare and the ghosts reach the image.
    Added in linear light, then the sensor saturates.

    Parameters
    ----------
    sun_elevation_deg : float or (low, high) or None
        Sun above the horizon (deg). None: ``meta["sun_elevation_deg"]``, else 2–15°
        (the Udacity camera sees the sky up to ≈ 20°).
    sun_azimuth_deg : float or (low, high) or None
        Compass azimuth of the sun (deg; 0 = north, 90 = east), the camera heading being
        ``meta["heading_deg"]`` (default 0, looking north). None: ``meta["sun_azimuth_deg"]``,
        else any clear-sky pixel in the elevation range. When the azimuth's column has no clear
        sky in the range, the sun goes above the frame top; a sun behind the camera is an error.
    sun_position : (x, y) or None
        Sun position as fractions of width and height, overriding the angles and the layout.
    intensity : float or (low, high)
        Veiling glare at 10° from the sun (× full scale, linear).
    veil : float or (low, high)
        Uniform veiling glare added everywhere (fraction of full scale, linear).
    ghosts : int or (low, high)
        Number of ghost reflections.
    aperture_blades : int
        Blades of the lens's iris: ghosts are regular polygons of that many sides (0 = round).
    focal_length_px, horizon_row : float or None
        Camera (None: ``meta`` or 0.9·W, 0.58·H;
        ``horizon_row="estimate"``: from the lane vanishing point).

    Targets: image (RGB; uint8/uint16 sRGB, float linear); others pass unchanged.
    """

    def __init__(
        self,
        sun_elevation_deg: Any = None,
        sun_azimuth_deg: Any = None,
        sun_position: Any = None,
        intensity: Any = (0.02, 0.1),
        veil: Any = (0.01, 0.05),
        ghosts: Any = (3, 8),
        aperture_blades: int = 6,
        focal_length_px: float | None = None,
        horizon_row: float | str | None = None,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.sun_elevation_deg = (None if sun_elevation_deg is None
                                  else check_range(sun_elevation_deg, "sun_elevation_deg", low=0.0, high=89.0))
        self.sun_azimuth_deg = (None if sun_azimuth_deg is None
                                else check_range(sun_azimuth_deg, "sun_azimuth_deg", low=-360.0, high=720.0))
        if sun_position is not None:
            sun_position = [check_number(v, "sun_position", low=-1.0, high=2.0) for v in sun_position]
            if len(sun_position) != 2:
                raise ParameterError(f"sun_position must be (x, y) fractions, got {sun_position!r}")
        self.sun_position = sun_position
        self.intensity = check_range(intensity, "intensity", low=0.0, high=100.0)
        self.veil = check_range(veil, "veil", low=0.0, high=1.0)
        self.ghosts = check_range(ghosts, "ghosts", low=0, high=50, integer=True)
        self.aperture_blades = check_number(aperture_blades, "aperture_blades", low=0, high=16, integer=True)
        self.camera_args = check_camera_args(focal_length_px, horizon_row, None)

    def _sun(self, rng: np.random.Generator, sample: Mapping[str, Any], cam: Mapping[str, float]) -> dict:
        """The sun's row, col, elevation and relative azimuth (see :func:`.sun_position.place_sun`)."""
        h, w = sample["image"].shape[:2]
        meta = sample.get("meta") or {}
        if self.sun_position is not None:
            row, col = self.sun_position[1] * h, self.sun_position[0] * w
            el, az = pixel_angles(row, col, cam, w)
            return {"row": row, "col": col, "elevation_deg": el, "azimuth_deg": az,
                    "in_frame": bool(0 <= row < h and 0 <= col < w)}
        el_range = self.sun_elevation_deg or _from_meta(meta, "sun_elevation_deg", (2.0, 15.0))
        az_range = self.sun_azimuth_deg or _from_meta(meta, "sun_azimuth_deg", None)
        rel = None
        if az_range is not None:
            rel = relative_azimuth(sample_uniform(rng, az_range), float(meta.get("heading_deg", 0.0)))
        labels, k = sky_labels(scene_of(sample), cam)
        return place_sun(rng, labels, k, cam, (h, w), tuple(el_range), rel)

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        h, w = sample["image"].shape[:2]
        cam = camera_of(sample, self.camera_args)
        sun = self._sun(rng, sample, cam)
        ghosts = []
        for _ in range(sample_int(rng, self.ghosts)):
            ghosts.append({
                "t": float(rng.uniform(-1.6, 0.7)),  # position on the line: 1 = sun, 0 = centre, <0 mirrored
                "radius": float(rng.uniform(0.01, 0.07) * max(h, w)),
                "strength": float(rng.uniform(0.3, 1.2)),  # peak, × the glare at 10°
                "softness": float(rng.uniform(0.1, 0.35)),
                "tint": list(GHOST_TINTS[int(rng.integers(len(GHOST_TINTS)))]),
                "ring": bool(rng.random() < 0.3),
            })
        heading = float((sample.get("meta") or {}).get("heading_deg", 0.0))
        return {
            "sun_row": float(sun["row"]),
            "sun_col": float(sun["col"]),
            "sun_in_frame": bool(sun["in_frame"]),
            "sun_elevation_deg": float(sun["elevation_deg"]),
            "sun_azimuth_deg": float((heading + sun["azimuth_deg"]) % 360.0),
            "relative_azimuth_deg": float(sun["azimuth_deg"]),
            "camera": cam,
            "disc_radius_px": max(1.0, cam["focal_length_px"] * math.tan(math.radians(SUN_RADIUS_DEG))),
            "intensity": sample_uniform(rng, self.intensity),
            "veil": sample_uniform(rng, self.veil),
            "aperture_blades": self.aperture_blades,
            "aperture_angle_rad": float(rng.uniform(0.0, 2.0 * math.pi)),
            "ghosts": ghosts,
        }

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        frame, meta = ctx.scene["image"], ctx.meta
        h, w = frame.shape[:2]
        planes = radiometry.decode_planes(frame, meta)
        sr, sc = float(params["sun_row"]), float(params["sun_col"])
        sun = sun_direction(params["sun_elevation_deg"], params["relative_azimuth_deg"])
        glare = glare_field((h, w), params["camera"], sun, float(params["intensity"]), float(params["veil"]))
        for c in range(3):
            scale_add(glare, WARM[c], planes[c])
        peak = float(params["intensity"])
        # where the glare alone exceeds 0.1 the sum nears saturation: roll it off softly
        reach = math.radians(min(80.0, GLARE_REF_DEG * math.sqrt(peak / 0.1)))
        shoulder(planes, sr, sc, params["camera"]["focal_length_px"] * math.tan(reach) + 2.0)
        if params["sun_in_frame"]:
            saturate_disc(planes, sr, sc, float(params["disc_radius_px"]))
        for g in params["ghosts"]:
            add_ghost(planes, g, ghost_centre(g["t"], sr, sc, (h, w)), int(params["aperture_blades"]),
                      float(params["aperture_angle_rad"]), g["strength"] * peak)
        for p in planes:
            clip_max(p, 1.0)  # the sensor saturates
        return radiometry.encode_planes(planes, image, meta)


def sky_labels(sample: Mapping[str, Any], camera: Mapping[str, float]) -> tuple[np.ndarray, int]:
    """(labels, k): the sky of the scene layout on the grid of :func:`.scene.coarse_scene`
    (:data:`~.layout.SKY`, else :data:`~.layout.VERTICAL`; boxes are never sky) — the same
    estimate as the layout's, without the ground and object analysis the sun does not need."""
    h, w = sample["image"].shape[:2]
    k = max(1, min(h, w) // GRID_PX)
    labels = np.where(coarse_sky(sample, camera["horizon_row"], k), np.uint8(SKY), np.uint8(VERTICAL))
    boxes = sample.get("bboxes")
    boxes = [] if boxes is None or not len(boxes) else np.asarray(boxes, dtype=np.float64).reshape(len(boxes), -1)
    for x0, y0, x1, y1 in (b[:4] for b in boxes):
        labels[int(max(y0, 0)) // k : int(max(np.ceil(y1), 0)) // k + 1,
               int(max(x0, 0)) // k : int(max(np.ceil(x1), 0)) // k + 1] = VERTICAL
    return labels, k


def _from_meta(meta: Mapping[str, Any], key: str, default: Any) -> Any:
    value = meta.get(key)
    return default if value is None else (float(value), float(value))
