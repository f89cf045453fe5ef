"""driving.SunGlare: a low sun in the sky (or just above the frame) — veiling glare and lens ghosts."""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from domaug.kit import Context, ParameterError, check_number, check_range, pointwise, sample_int, sample_uniform

from . import glare_codes, radiometry
from .base import DrivingTransform
from .depth import camera_of, check_camera_args
from .flare import GLARE_REF_DEG, flare_layers, saturate_disc, shoulder, sun_direction
from .layout import SKY, VERTICAL
from .scene import clip_max, coarse_scene, coarse_sky
from .plane_ops import upsample
from .scene_fill import scene_of
from .scratch import buffer
from .sun_position import SUN_RADIUS_DEG, pixel_angles, place_sun, relative_azimuth, sun_pixel
from .sun_scene import sun_ruled_out

__all__ = ["SunGlare", "sun_pixel"]

#: Ghost tints (anti-reflection coatings leave green, amber and violet reflections).
GHOST_TINTS = ((0.6, 1.0, 0.7), (1.0, 0.8, 0.5), (0.8, 0.6, 1.0), (0.7, 0.9, 1.0))
#: Colour of a low sun's glare (reddened by the long air mass).
WARM = (1.0, 0.93, 0.8)
#: Short side (px) of the grid the sun's scene (sky, shadows) is judged on.
SUN_GRID_PX = 128


class SunGlare(DrivingTransform):
    """Sun glare: a saturated sun in the sky, the veiling glare around it, and lens ghosts.

    Model: veiling glare falls off as 1/θ² from the sun (Stiles–Holladay; CIE 146:2002
    L_veil = 10·E/θ²) over a uniform veil that lifts the blacks; ghosts are soft,
    aperture-shaped discs on the line through the sun and the optical centre (Wu et al.,
    ICCV 2021). The sun shines only from sky: its centre is drawn among the clear-sky
    pixels of the scene layout (Hoiem et al. 2005 pop-up labels, eroded by 3 disc radii)
    or placed above the frame top, where only the glare and the ghosts reach the image.
    Added in linear light, then the sensor saturates. The frame's own light is respected
    (:mod:`.sun_scene`): under a grey overcast sky, or when its sun shadows show a sun high or
    behind the camera, no sun is drawn — only the diffuse veil, and ``params["sun_refused"]``
    says why.

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
    respect_scene_light : bool
        Refuse a sun the frame's light contradicts (overcast sky; shadows of a sun that is not
        low ahead — unless ``meta["sun_azimuth_deg"]`` gives the frame's true sun). False: always
        draw the sun. ``sun_position`` always draws it.

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
        respect_scene_light: bool = True,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        if not isinstance(respect_scene_light, (bool, np.bool_)):
            raise ParameterError(f"respect_scene_light must be True or False, got {respect_scene_light!r}")
        self.respect_scene_light = bool(respect_scene_light)
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
        """The sun's row, col, elevation and relative azimuth (see :func:`.sun_position.place_sun`),
        or ``{"refused": why}`` when the frame's light rules a sun in view out."""
        h, w = sample["image"].shape[:2]
        meta = sample.get("meta") or {}
        if self.sun_position is not None:
            row, col = self.sun_position[1] * h, self.sun_position[0] * w
            el, az = pixel_angles(row, col, cam, w)
            return {"row": row, "col": col, "elevation_deg": el, "azimuth_deg": az,
                    "in_frame": bool(0 <= row < h and 0 <= col < w)}
        el_range = self.sun_elevation_deg or _from_meta(meta, "sun_elevation_deg", (2.0, 15.0))
        az_range = self.sun_azimuth_deg or _from_meta(meta, "sun_azimuth_deg", None)
        coarse = sun_scene_of(sample, cam, layout=self.respect_scene_light)
        if self.respect_scene_light:
            why = sun_ruled_out(coarse, shadows=meta.get("sun_azimuth_deg") is None)
            if why is not None:
                return {"refused": why}
        rel = None
        if az_range is not None:
            rel = relative_azimuth(sample_uniform(rng, az_range), float(meta.get("heading_deg", 0.0)))
        return place_sun(rng, coarse["labels"], coarse["k"], cam, (h, w), tuple(el_range), rel)

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        h, w = sample["image"].shape[:2]
        cam = camera_of(sample, self.camera_args)
        sun = self._sun(rng, sample, cam)
        params = {"camera": cam, "intensity": sample_uniform(rng, self.intensity),
                  "veil": sample_uniform(rng, self.veil)}
        if "refused" in sun:  # the frame's own light: a diffuse veil at most
            return {**params, "sun_refused": sun["refused"], "sun_in_frame": False, "intensity": 0.0,
                    "ghosts": []}
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
            **params,
            "sun_row": float(sun["row"]),
            "sun_col": float(sun["col"]),
            "sun_in_frame": bool(sun["in_frame"]),
            "sun_elevation_deg": float(sun["elevation_deg"]),
            "sun_azimuth_deg": float((heading + sun["azimuth_deg"]) % 360.0),
            "relative_azimuth_deg": float(sun["azimuth_deg"]),
            "disc_radius_px": max(1.0, cam["focal_length_px"] * math.tan(math.radians(SUN_RADIUS_DEG))),
            "aperture_blades": self.aperture_blades,
            "aperture_angle_rad": float(rng.uniform(0.0, 2.0 * math.pi)),
            "ghosts": ghosts,
        }

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        frame, meta = ctx.scene["image"], ctx.meta
        if radiometry.is_srgb8(frame, meta) and frame.ndim == 3 and frame.shape[2] == 3:
            return _glare8(frame, params)
        if params.get("sun_refused"):
            return _veil(frame, image, float(params["veil"]), meta)
        h, w = frame.shape[:2]
        planes = radiometry.decode_planes(frame, meta)
        sr, sc = float(params["sun_row"]), float(params["sun_col"])
        coarse, fine = _flare(params, (h, w))
        full = buffer("flare_full", (h, w))
        for c in range(3):
            planes[c] += upsample(coarse[c], (h, w), out=full)
        for (y0, y1, x0, x1), light in fine:
            for c in range(3):
                planes[c][y0:y1, x0:x1] += light[c]
        shoulder(planes, sr, sc, _shoulder_radius(params))
        if params["sun_in_frame"]:
            saturate_disc(planes, sr, sc, float(params["disc_radius_px"]))
        for p in planes:
            clip_max(p, 1.0)  # the sensor saturates
        return radiometry.encode_planes(planes, image, meta)


def _veil(frame: np.ndarray, image: np.ndarray, veil: float, meta: Mapping[str, Any] | None) -> np.ndarray:
    """``frame`` with a uniform veil of linear ``veil`` added, the sensor saturating: a per-code
    curve (one lookup) for 16-bit and smaller integer frames."""

    def curve(values: np.ndarray) -> np.ndarray:
        lin = radiometry.decode(values, meta)
        lin += np.float32(veil)
        return radiometry.encode(clip_max(lin, 1.0), image, meta)

    if frame.dtype.kind in "ui" and frame.dtype.itemsize <= 2:
        return pointwise(frame, lambda codes: curve(codes.astype(frame.dtype)), meta)
    return curve(frame)


def _flare(params: Mapping[str, Any], shape: tuple[int, int]) -> tuple[list[np.ndarray], list]:
    """The glare and the ghosts of ``params`` (:func:`.flare.flare_layers`)."""
    sun = sun_direction(params["sun_elevation_deg"], params["relative_azimuth_deg"])
    return flare_layers(shape, params["camera"], sun, float(params["intensity"]), float(params["veil"]), WARM,
                        params["ghosts"], (float(params["sun_row"]), float(params["sun_col"])),
                        int(params["aperture_blades"]), float(params["aperture_angle_rad"]))


def _shoulder_radius(params: Mapping[str, Any]) -> float:
    """Where the glare alone exceeds 0.1 the sum nears saturation: the shoulder's reach (px)."""
    reach = math.radians(min(80.0, GLARE_REF_DEG * math.sqrt(float(params["intensity"]) / 0.1)))
    return params["camera"]["focal_length_px"] * math.tan(reach) + 2.0


def _glare8(frame: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
    """:meth:`SunGlare.apply_to_image` for 8-bit sRGB, in 16-bit linear codes (:mod:`.glare_codes`)."""
    if params.get("sun_refused"):  # the same light everywhere: one table lookup
        return glare_codes.veil8(frame, float(params["veil"]))
    sr, sc = float(params["sun_row"]), float(params["sun_col"])
    coarse, fine = _flare(params, frame.shape[:2])
    codes = glare_codes.decode16(frame)
    glare_codes.add_field(codes, coarse)
    for box, light in fine:
        glare_codes.add_layer16(codes, box, light)
    glare_codes.shoulder16(codes, sr, sc, _shoulder_radius(params))
    if params["sun_in_frame"]:
        glare_codes.saturate_disc16(codes, sr, sc, float(params["disc_radius_px"]))
    return glare_codes.encode8(codes)


def sun_scene_of(sample: Mapping[str, Any], camera: Mapping[str, float], layout: bool = True) -> dict:
    """The scene the sun is placed in: :func:`.scene.coarse_scene` on a :data:`SUN_GRID_PX` grid
    (sky, ground, objects, linear colours), or with ``layout=False`` only its sky (labels
    :data:`~.layout.SKY` / :data:`~.layout.VERTICAL` and k: what placing the sun needs); boxes are never sky."""
    filled = scene_of(sample)
    if layout:
        coarse = coarse_scene(filled, camera, grid_px=SUN_GRID_PX)
    else:
        k = max(1, min(sample["image"].shape[:2]) // SUN_GRID_PX)
        sky = coarse_sky(filled, camera["horizon_row"], k)
        coarse = {"labels": np.where(sky, np.uint8(SKY), np.uint8(VERTICAL)), "k": k}
    labels, k = coarse["labels"], coarse["k"]
    boxes = sample.get("bboxes")
    boxes = [] if boxes is None or not len(boxes) else np.asarray(boxes, dtype=np.float64).reshape(len(boxes), -1)
    for x0, y0, x1, y1 in (b[:4] for b in boxes):
        cells = labels[int(max(y0, 0)) // k : int(max(np.ceil(y1), 0)) // k + 1,
                       int(max(x0, 0)) // k : int(max(np.ceil(x1), 0)) // k + 1]
        cells[cells == SKY] = VERTICAL
    return coarse


def _from_meta(meta: Mapping[str, Any], key: str, default: Any) -> Any:
    value = meta.get(key)
    return default if value is None else (float(value), float(value))
