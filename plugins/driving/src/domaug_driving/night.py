"""driving.Night: day-to-night in linear light — less light, street-lamp colour, sensor noise."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from domaug.errors import ParameterError
from domaug.params import check_range, draw_seed, sample_int, sample_log_uniform, sample_uniform

from . import sensor
from .base import DrivingTransform
from .depth import check_camera_args
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
        if vehicle_labels is not None and (isinstance(vehicle_labels, (str, bytes))
                                           or not all(isinstance(v, (int, np.integer)) for v in vehicle_labels)):
            raise ParameterError(f"vehicle_labels must be a list of integer box labels or None, got {vehicle_labels!r}")
        self.vehicle_labels = None if vehicle_labels is None else [int(v) for v in vehicle_labels]
        self.camera_args = check_camera_args(focal_length_px, horizon_row, camera_height_m)

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        h, w = sample["image"].shape[:2]
        cam = self.camera(sample)
        shot = sample_log_uniform(rng, self.shot_noise) if self.shot_noise[0] > 0 else sample_uniform(rng, self.shot_noise)
        if self.read_noise is None:
            read = sensor.brooks_read_variance(shot) if shot > 0 else 0.0
        else:
            read = sample_uniform(rng, self.read_noise)
        illuminant = self.illuminants[int(rng.integers(len(self.illuminants)))] if len(self.illuminants) > 1 else self.illuminants[0]
        f, vh, ch = cam["focal_length_px"], cam["horizon_row"], cam["camera_height_m"]
        lamps = []
        for _ in range(sample_int(rng, self.street_lights)):
            z = float(rng.uniform(8.0, 80.0))  # distance of the lamp (m)
            side = float(rng.choice([-1.0, 1.0])) * float(rng.uniform(4.0, 9.0))  # lateral offset (m)
            col = w / 2 + f * side / z
            row = vh - f * (8.0 - ch) / z  # lamp head 8 m above the road
            ground_row = vh + f * ch / z
            lamps.append([row, col, ground_row, f * 0.25 / z, f * 3.0 / z])
        boxes = sample.get("bboxes") if self.vehicle_lights else None
        lit = []
        if boxes is not None and len(boxes):
            b = np.asarray(boxes, dtype=np.float64)
            if self.vehicle_labels is None or b.shape[1] < 5:
                lit = list(range(len(b)))
            else:
                lit = [i for i in range(len(b)) if int(b[i, 4]) in self.vehicle_labels]
        return {
            "stops": sample_uniform(rng, self.stops),
            "illuminant": illuminant,
            "white_balance_shift": sample_uniform(rng, self.white_balance_shift),
            "shot_noise": shot,
            "read_noise": read,
            "sky_factor": sample_uniform(rng, self.sky_factor),
            "street_lamps": lamps,  # [row, col, ground row, core sigma px, pool sigma px]
            "vehicle_lights": lit,  # indices of the boxes that get tail lights
            "horizon_row": vh,
            "seed": draw_seed(rng),
        }

    def apply_to_planes(self, planes: list[np.ndarray], params: Mapping[str, Any],
                        sample: Mapping[str, Any]) -> list[np.ndarray]:
        h, w = planes[0].shape
        f32 = np.float32
        tint = sensor.illuminant_rgb(params["illuminant"])
        k = float(params["white_balance_shift"])
        gain = (1.0 - k) + k * tint  # unit luminance stays unit luminance (linear in k)
        gain = (gain * np.float32(2.0 ** -float(params["stops"]))).astype(f32)
        # smooth light fields (sky darkening, pools of lamp light, wide glows) on the coarse grid
        g = max(1, min(h, w) // GRID_PX)
        hs, ws = h // g, w // g
        mult = None  # per-channel multiplier of the scene (coarse), None = the scalar gain
        lamps = np.asarray(params["street_lamps"], dtype=np.float32).reshape(-1, 5)
        if len(lamps):
            # illumination pools on the road multiply the scene's reflectance
            pools = sensor.glow_field((hs, ws), lamps[:, [2, 1]] / g, lamps[:, 4] / g, np.tile(tint * 0.05, (len(lamps), 1)))
            mult = np.moveaxis(pools, -1, 0) + gain[:, None, None]
        sky_factor = float(params["sky_factor"])
        if sky_factor < 1.0:
            sky = coarse_sky(sample, params["horizon_row"], g)
            if sky.any():
                dim = np.where(sky, f32(sky_factor), f32(1.0))[None]
                mult = dim * (gain[:, None, None] if mult is None else mult)
        glow_centres, glow_sigmas, glow_colours = [], [], []
        for row, col, _, core, _ in lamps:
            glow_centres += [(row, col), (row, col)]
            glow_sigmas += [max(core, 0.7), max(core, 0.7) * 8.0]
            glow_colours += [tint * 3.0, tint * 0.06]
        if params["vehicle_lights"]:
            red = sensor.illuminant_rgb("tail_light")
            boxes = np.asarray(sample["bboxes"], dtype=np.float64)
            for x0, y0, x1, y1 in boxes[[i for i in params["vehicle_lights"] if i < len(boxes)], :4]:
                bw, bh = x1 - x0, y1 - y0
                size = max(0.04 * bw, 0.7)
                for cx in (x0 + 0.15 * bw, x1 - 0.15 * bw):
                    glow_centres += [(y0 + 0.6 * bh, cx), (y0 + 0.6 * bh, cx)]
                    glow_sigmas += [size, size * 3.0]
                    glow_colours += [red * 1.5, red * 0.04]
        centres = np.asarray(glow_centres, dtype=np.float64).reshape(-1, 2)
        sigmas = np.asarray(glow_sigmas, dtype=np.float64)
        colours = np.asarray(glow_colours, dtype=np.float32).reshape(-1, 3)
        wide = (sigmas >= 2.0 * g) & (g > 1)  # smooth enough for the coarse grid (≥ 2 cells)
        added = None
        if wide.any():
            added = np.moveaxis(sensor.glow_field((hs, ws), centres[wide] / g, sigmas[wide] / g, colours[wide]), -1, 0)
        narrow = ~wide
        shot, read = float(params["shot_noise"]), float(params["read_noise"])
        field = buffer("night_field", (h, w)) if mult is not None or added is not None else None
        for c, p in enumerate(planes):
            if mult is not None:
                p *= upsample(mult[c], (h, w), out=field)
            else:
                p *= gain[c]
            if added is not None:
                p += upsample(added[c], (h, w), out=field)
            if narrow.any():
                sensor.add_gaussians(p, centres[narrow, 0], centres[narrow, 1], sigmas[narrow], sigmas[narrow],
                                     colours[narrow, c])
            if shot > 0 or read > 0:
                sensor.add_poisson_gaussian(p, shot, read, (int(params["seed"]) + c * 0x9E3779B9) % 2**63)
                clip_min(p, 0.0)
        return planes
