"""driving.Night: day-to-night in linear light — less light, street-lamp colour, sensor noise."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from domaug.kit import Context, ParameterError, check_range, draw_seed, sample_int, sample_log_uniform, sample_uniform

from . import radiometry, sensor
from .base import DrivingTransform
from .depth import camera_of, check_camera_args
from .scene import GRID_PX, clip_min, coarse_sky, upsample
from .scratch import buffer

ILLUMINANTS = ("sodium", "warm_led", "led", "cool_led")


class Night(DrivingTransform):
    """Night: the scene lit by street lamps instead of the sun, seen by a noisier camera.

    Model: unprocess to linear light, scale by 2^−stops, tint toward the street-light
    illuminant, add street lamps (glow + a pool of light on the road) and vehicle lights,
    darken the sky, then Poisson–Gaussian sensor noise of variance shot·x + read
    (Brooks et al., CVPR 2019, "Unprocessing images"; Punnappurath et al., CVPR 2022), re-encode.

    Parameters
    ----------
    stops : float or (low, high)
        Exposure drop in stops (EV): mean linear luminance falls by 2^stops (before lamps).
    illuminant : str or list of str
        Street lighting: ``"sodium"`` (≈2000 K), ``"warm_led"`` (3000 K), ``"led"`` (4000 K),
        ``"cool_led"`` (5000 K); a list to draw from.
    white_balance_shift : float or (low, high)
        0 = neutral (camera fully white-balanced), 1 = full illuminant colour. The tint has
        unit luminance, so it does not change brightness.
    shot_noise : float or (low, high)
        Shot-noise factor (variance per unit linear signal, full scale = 1; log-uniform).
        Brooks et al.: 1e-4 … 0.012.
    read_noise : float or (low, high) or None
        Read-noise variance (full scale²); None = Brooks et al.'s fit to the shot factor.
    sky_factor : float or (low, high)
        Extra factor on estimated sky pixels (1 = no extra darkening).
    street_lights : int or (low, high)
        Number of street lamps above the road (each: glow with bloom, pool of light below).
    vehicle_lights : bool
        Tail lights at the lower corners of vehicle boxes (red, with bloom).
    vehicle_labels : list of int or None
        Box labels (first column after x/y/x/y) that are vehicles; None = every box.
    focal_length_px, horizon_row, camera_height_m : float or None
        Camera for lamp sizes and the sky (None: ``meta`` or 0.9·W, 0.58·H, 1.3 m;
        ``horizon_row="estimate"``: from the lane vanishing point).

    Targets: image (RGB; uint8/uint16 sRGB, float linear); others pass unchanged.
    """

    def __init__(
        self,
        stops: Any = (3.0, 6.0),
        illuminant: str | Sequence[str] = ("sodium", "led"),
        white_balance_shift: Any = (0.3, 0.8),
        shot_noise: Any = (1e-4, 0.012),
        read_noise: Any = None,
        sky_factor: Any = (0.05, 0.3),
        street_lights: Any = (0, 6),
        vehicle_lights: bool = True,
        vehicle_labels: Sequence[int] | None = None,
        focal_length_px: float | None = None,
        horizon_row: float | str | None = None,
        camera_height_m: float | None = None,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.stops = check_range(stops, "stops", low=0.0, high=20.0)
        names = [illuminant] if isinstance(illuminant, str) else list(illuminant)
        if not names or any(n not in ILLUMINANTS for n in names):
            raise ParameterError(f"illuminant must be one of {ILLUMINANTS} or a list of them, got {illuminant!r}")
        self.illuminants = names
        self.white_balance_shift = check_range(white_balance_shift, "white_balance_shift", low=0.0, high=1.0)
        self.shot_noise = check_range(shot_noise, "shot_noise", low=0.0, high=1.0)
        self.read_noise = None if read_noise is None else check_range(read_noise, "read_noise", low=0.0, high=1.0)
        self.sky_factor = check_range(sky_factor, "sky_factor", low=0.0, high=1.0)
        self.street_lights = check_range(street_lights, "street_lights", low=0, high=100, integer=True)
        if not isinstance(vehicle_lights, bool):
            raise ParameterError(f"vehicle_lights must be True or False, got {vehicle_lights!r}")
        self.vehicle_lights = vehicle_lights
        self.vehicle_labels = _check_labels(vehicle_labels)
        self.camera_args = check_camera_args(focal_length_px, horizon_row, camera_height_m)

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        cam = camera_of(sample, self.camera_args)
        shot = sample_log_uniform(rng, self.shot_noise) if self.shot_noise[0] > 0 else sample_uniform(rng, self.shot_noise)
        if self.read_noise is None:
            read = sensor.brooks_read_variance(shot) if shot > 0 else 0.0
        else:
            read = sample_uniform(rng, self.read_noise)
        illuminant = self.illuminants[int(rng.integers(len(self.illuminants)))] if len(self.illuminants) > 1 else self.illuminants[0]
        lamps = _draw_lamps(rng, sample_int(rng, self.street_lights), cam, sample["image"].shape[1])
        return {
            "stops": sample_uniform(rng, self.stops),
            "illuminant": illuminant,
            "white_balance_shift": sample_uniform(rng, self.white_balance_shift),
            "shot_noise": shot,
            "read_noise": read,
            "sky_factor": sample_uniform(rng, self.sky_factor),
            "street_lamps": lamps,  # [row, col, ground row, core sigma px, pool sigma px]
            "vehicle_lights": self._lit_boxes(sample),  # indices of the boxes that get tail lights
            "horizon_row": cam["horizon_row"],
            "seed": draw_seed(rng),
        }

    def _lit_boxes(self, sample: Mapping[str, Any]) -> list[int]:
        """Indices of the boxes that are vehicles (all boxes when no labels are given)."""
        boxes = sample.get("bboxes") if self.vehicle_lights else None
        if boxes is None or not len(boxes):
            return []
        b = np.asarray(boxes, dtype=np.float64)
        if self.vehicle_labels is None or b.shape[1] < 5:
            return list(range(len(b)))
        return [i for i in range(len(b)) if int(b[i, 4]) in self.vehicle_labels]

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        frame, meta = ctx.scene["image"], ctx.meta
        planes = radiometry.decode_planes(frame, meta)
        light = _NightLight.of(params, ctx.scene, planes[0].shape)
        field = buffer("night_field", planes[0].shape) if light.mult is not None or light.added is not None else None
        for c, p in enumerate(planes):
            light.apply(p, c, field)
        return radiometry.encode_planes(planes, image, meta)


def _check_labels(vehicle_labels: Any) -> list[int] | None:
    """Validated vehicle box labels (None = every box is a vehicle)."""
    if vehicle_labels is None:
        return None
    if isinstance(vehicle_labels, (str, bytes)) or not all(isinstance(v, (int, np.integer)) for v in vehicle_labels):
        raise ParameterError(f"vehicle_labels must be a list of integer box labels or None, got {vehicle_labels!r}")
    return [int(v) for v in vehicle_labels]


def _draw_lamps(rng: np.random.Generator, n: int, cam: Mapping[str, float], w: int) -> list[list[float]]:
    """``n`` street lamps 8 m high, 8–80 m ahead, 4–9 m left or right of the road centre:
    [head row, col, ground row, core σ px, pool σ px] each."""
    f, vh, ch = cam["focal_length_px"], cam["horizon_row"], cam["camera_height_m"]
    lamps = []
    for _ in range(n):
        z = float(rng.uniform(8.0, 80.0))  # distance of the lamp (m)
        side = float(rng.choice([-1.0, 1.0])) * float(rng.uniform(4.0, 9.0))  # lateral offset (m)
        col = w / 2 + f * side / z
        row = vh - f * (8.0 - ch) / z  # lamp head 8 m above the road
        ground_row = vh + f * ch / z
        lamps.append([row, col, ground_row, f * 0.25 / z, f * 3.0 / z])
    return lamps


def _glows(lamps: np.ndarray, tint: np.ndarray, params: Mapping[str, Any], scene: Mapping[str, Any]):
    """The light sources as Gaussian glows: (centres (n, 2) rows/cols, sigmas (n,), colours (n, 3)).

    Each lamp head is a bright core and a wide bloom of the illuminant's colour; each lit
    vehicle has two red tail lights (core and bloom) at 60 % of its box height.
    """
    centres, sigmas, colours = [], [], []
    for row, col, _, core, _ in lamps:
        centres += [(row, col), (row, col)]
        sigmas += [max(core, 0.7), max(core, 0.7) * 8.0]
        colours += [tint * 3.0, tint * 0.06]
    if params["vehicle_lights"]:
        red = sensor.illuminant_rgb("tail_light")
        boxes = np.asarray(scene["bboxes"], dtype=np.float64)
        for x0, y0, x1, y1 in boxes[[i for i in params["vehicle_lights"] if i < len(boxes)], :4]:
            bw, bh = x1 - x0, y1 - y0
            size = max(0.04 * bw, 0.7)
            for cx in (x0 + 0.15 * bw, x1 - 0.15 * bw):
                centres += [(y0 + 0.6 * bh, cx), (y0 + 0.6 * bh, cx)]
                sigmas += [size, size * 3.0]
                colours += [red * 1.5, red * 0.04]
    return (np.asarray(centres, dtype=np.float64).reshape(-1, 2), np.asarray(sigmas, dtype=np.float64),
            np.asarray(colours, dtype=np.float32).reshape(-1, 3))


@dataclass
class _NightLight:
    """The night scene's light, plane by plane: I ← I·(gain or coarse multiplier) + coarse
    glows + narrow glows, then sensor noise. Smooth light fields (sky darkening, pools of
    lamp light, wide glows) live on a coarse grid (cell g px) and are upsampled per plane."""

    gain: np.ndarray  # (3,) exposure drop × white balance
    mult: np.ndarray | None  # (3, hs, ws) scene multiplier, None = the scalar gain
    added: np.ndarray | None  # (3, hs, ws) wide glows
    centres: np.ndarray  # narrow glows, added at full resolution
    sigmas: np.ndarray
    colours: np.ndarray
    shot: float
    read: float
    seed: int

    @classmethod
    def of(cls, params: Mapping[str, Any], scene: Mapping[str, Any], shape: tuple[int, int]) -> _NightLight:
        h, w = shape
        f32 = np.float32
        tint = sensor.illuminant_rgb(params["illuminant"])
        k = float(params["white_balance_shift"])
        gain = (1.0 - k) + k * tint  # unit luminance stays unit luminance (linear in k)
        gain = (gain * np.float32(2.0 ** -float(params["stops"]))).astype(f32)
        g = max(1, min(h, w) // GRID_PX)
        hs, ws = h // g, w // g
        mult = None
        lamps = np.asarray(params["street_lamps"], dtype=np.float32).reshape(-1, 5)
        if len(lamps):
            # illumination pools on the road multiply the scene's reflectance
            pools = sensor.glow_field((hs, ws), lamps[:, [2, 1]] / g, lamps[:, 4] / g, np.tile(tint * 0.05, (len(lamps), 1)))
            mult = np.moveaxis(pools, -1, 0) + gain[:, None, None]
        sky_factor = float(params["sky_factor"])
        if sky_factor < 1.0:
            sky = coarse_sky(scene, params["horizon_row"], g)
            if sky.any():
                dim = np.where(sky, f32(sky_factor), f32(1.0))[None]
                mult = dim * (gain[:, None, None] if mult is None else mult)
        centres, sigmas, colours = _glows(lamps, tint, params, scene)
        wide = (sigmas >= 2.0 * g) & (g > 1)  # smooth enough for the coarse grid (≥ 2 cells)
        added = None
        if wide.any():
            added = np.moveaxis(sensor.glow_field((hs, ws), centres[wide] / g, sigmas[wide] / g, colours[wide]), -1, 0)
        narrow = ~wide
        return cls(gain, mult, added, centres[narrow], sigmas[narrow], colours[narrow],
                   float(params["shot_noise"]), float(params["read_noise"]), int(params["seed"]))

    def apply(self, p: np.ndarray, c: int, field: np.ndarray | None) -> None:
        """In place on plane ``c`` (linear H×W); ``field`` is scratch for the upsampled fields."""
        if self.mult is not None:
            p *= upsample(self.mult[c], p.shape, out=field)
        else:
            p *= self.gain[c]
        if self.added is not None:
            p += upsample(self.added[c], p.shape, out=field)
        if len(self.centres):
            sensor.add_gaussians(p, self.centres[:, 0], self.centres[:, 1], self.sigmas, self.sigmas, self.colours[:, c])
        if self.shot > 0 or self.read > 0:
            sensor.add_poisson_gaussian(p, self.shot, self.read, (self.seed + c * 0x9E3779B9) % 2**63)
            clip_min(p, 0.0)
