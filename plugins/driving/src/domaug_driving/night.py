"""driving.Night: the daylight frame as a reflectance proxy, relit by a night road's lights and seen
through a noisy raw camera pipeline."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from domaug.kit import (Context, ParameterError, check_choice, check_number, check_range, draw_seed,
                        sample_log_uniform, sample_uniform)

from . import radiometry, raw_noise
from .base import DrivingTransform
from .depth import camera_of, check_camera_args
from .night_ego import ego_edge
from .night_mosaic import relit_mosaic
from .night_scene import night_light, sky_share
from .overcast import estimate_sun, overcast_factors
from .scene import coarse_scene

LAMP_SPECTRA = ("sodium", "warm_led", "led", "cool_led")
ARRANGEMENTS = ("left", "right", "opposite", "staggered")
HEADLAMPS = ("halogen", "led")
DEMOSAIC = ("edge_aware", "bilinear")


class Night(DrivingTransform):
    """Night: the scene relit by headlamps, street lamps and tail lights, seen by a raw camera.

    Model: the daylight frame (sun shading divided out) is the surfaces' reflectance ρ; the
    night radiance is L = ρ·E/π with the illuminance E (lux) of a small ambient plus point
    sources by the inverse-square cosine law — ECE R112-like low-beam headlamps (cut-off
    0.57° down, 15° kerb-side kink, 0.65 m high), street lamps on poles along the road edges,
    tail lights on the vehicles (boxes, or the layout's vertical regions standing on the road)
    — over a dark sky with urban sky glow near the horizon. Light sources reach the sensor
    through a lens PSF (core + halo, flux conserved). The camera: exposure from ISO 12232
    (L_sat = 78·N²/(0.65·t·S)), night auto-exposure raising the ISO, Poisson–Gaussian noise
    per photosite of an RGGB mosaic (EMVA 1288; Brooks et al., CVPR 2019), white balance,
    demosaicking, the colour correction matrix, a mild chroma denoise and the output encoding.
    The sun is divided out of the frame first (:func:`.overcast.remove_sun`'s factors); the road's
    median is taken as asphalt (ρ = 0.1) to scale the reflectance proxy.

    Parameters
    ----------
    lamp_spectrum : str or list of str
        Street lamps: ``"sodium"`` (HPS ≈ 2000 K), ``"warm_led"`` (3000 K), ``"led"`` (4000 K),
        ``"cool_led"`` (5000 K); a list to draw from.
    street_lights : float
        Probability that the road is lit by street lamps (0 = never, 1 = always).
    lamp_spacing_m, pole_height_m, lamp_offset_m : float or (low, high)
        Distance between poles along the road, lamp height, lateral distance of the poles from
        the camera's axis (drawn for each side); lamp heads overhang the road by 1.5 m.
    lamp_arrangement : str or list of str
        ``"left"``, ``"right"`` (single-sided), ``"opposite"`` or ``"staggered"``.
    lamp_intensity_cd : float or (low, high)
        Peak intensity of each luminaire (cd; ≈ 2000–4000 for a 10–20 klm road lantern).
    headlights : bool
        Ego low-beam headlamps on.
    headlight_intensity_cd : float or (low, high)
        Hot-spot intensity of each low-beam lamp (cd; halogen ≈ 15 000, LED ≈ 30 000).
    headlamp_type : str or list of str
        ``"halogen"`` (3200 K) or ``"led"`` (5700 K).
    traffic_side : str
        ``"right"`` or ``"left"``: the side of the kerb toward which the cut-off rises.
    vehicle_lights : bool
        Tail lights on vehicles: inside the boxes when given, else on the vertical regions the
        layout finds standing on the road ahead.
    vehicle_labels : list of int or None
        Box labels (the column after x/y/x/y) that are vehicles; None = every box.
    tail_light_cd : float or (low, high)
        Intensity of each tail lamp toward the camera (cd; ECE R7: 4–12).
    ambient_lux : float or (low, high)
        Illuminance from sky glow and distant lights everywhere (lux; log-uniform).
    sky_luminance_cd_m2 : float or (low, high)
        Night-sky luminance at the zenith (cd/m²; suburban ≈ 0.002–0.01; log-uniform).
    sky_glow : float or (low, high)
        Sky glow at the horizon as a multiple of the zenith level (light pollution).
    white_balance_shift : float or (low, high)
        How much of the dominant lamp colour the camera's auto white balance leaves (0 = none).
    iso : "auto", float or (low, high)
        Sensor gain as ISO speed; ``"auto"``: night auto-exposure picks it so that the frame's
        mean linear level reaches ``metering_target``, between 100 and ``max_iso``.
    metering_target : float or (low, high)
        Mean linear level the auto-exposure aims for (0.05 ≈ sRGB 0.25 of full scale; the mean
        sRGB level of a contrasty night frame is lower: ≈ 0.1–0.2).
    max_iso : float
        Highest ISO the auto-exposure may use.
    exposure_ms, f_number : float
        Exposure time (a 30 fps dash-cam at night: 33 ms) and aperture.
    full_well_e, read_noise_e : float or (low, high)
        Electrons at full scale at ISO 100, and read noise (e⁻ rms): the noise variances at ISO S
        are x·S/(100·full_well_e) (shot) and (read_noise_e·S/(100·full_well_e))² (read).
    shot_noise, read_noise : float, (low, high) or None
        Override the noise directly (variance per unit signal; variance; full scale 1).
    glare_fraction : float or (low, high)
        Share of a light source's flux the lens scatters into its halo.
    demosaic : str
        ``"edge_aware"`` or ``"bilinear"``.
    isp_denoise : float or (low, high)
        Strength (0..1) of the ISP's chroma denoise.
    focal_length_px, horizon_row, camera_height_m : float or None
        Camera (None: ``meta`` or 0.9·W, 0.58·H, 1.3 m; ``horizon_row="estimate"``).

    Targets: image (RGB; uint8/uint16 sRGB, float linear); others pass unchanged.
    """

    def __init__(
        self,
        lamp_spectrum: str | Sequence[str] = ("sodium", "led"),
        street_lights: float = 0.85,
        lamp_spacing_m: Any = (25.0, 40.0), pole_height_m: Any = (8.0, 10.0), lamp_offset_m: Any = (4.5, 9.0),
        lamp_arrangement: str | Sequence[str] = ("right", "opposite", "staggered"),
        lamp_intensity_cd: Any = (2000.0, 4000.0),
        headlights: bool = True,
        headlight_intensity_cd: Any = (15000.0, 30000.0),
        headlamp_type: str | Sequence[str] = ("halogen", "led"),
        traffic_side: str = "right",
        vehicle_lights: bool = True, vehicle_labels: Sequence[int] | None = None, tail_light_cd: Any = (4.0, 12.0),
        ambient_lux: Any = (0.05, 0.5), sky_luminance_cd_m2: Any = (0.002, 0.01), sky_glow: Any = (4.0, 12.0),
        white_balance_shift: Any = (0.4, 0.8),
        iso: Any = "auto", metering_target: Any = (0.04, 0.08), max_iso: float = 6400.0,
        exposure_ms: float = 33.0, f_number: float = 2.0,
        full_well_e: Any = (4000.0, 10000.0), read_noise_e: Any = (1.0, 3.0), shot_noise: Any = None,
        read_noise: Any = None,
        glare_fraction: Any = (0.02, 0.06), demosaic: str = "edge_aware", isp_denoise: Any = (0.0, 0.6),
        focal_length_px: float | None = None, horizon_row: float | str | None = None,
        camera_height_m: float | None = None,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        checked = (
            _check_lamps(lamp_spectrum, street_lights, lamp_spacing_m, pole_height_m, lamp_offset_m,
                         lamp_arrangement, lamp_intensity_cd),
            _check_headlights(headlights, headlight_intensity_cd, headlamp_type, traffic_side),
            _check_vehicles(vehicle_lights, vehicle_labels, tail_light_cd),
            _check_ambient(ambient_lux, sky_luminance_cd_m2, sky_glow, white_balance_shift),
            _check_sensor(iso, metering_target, max_iso, exposure_ms, f_number, full_well_e, read_noise_e,
                          shot_noise, read_noise, glare_fraction, demosaic, isp_denoise),
        )
        for group in checked:  # (set in the order of the parameters)
            vars(self).update(group)
        self.camera_args = check_camera_args(focal_length_px, horizon_row, camera_height_m)

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        cam = camera_of(sample, self.camera_args)
        pick = lambda names: names[int(rng.integers(len(names)))] if len(names) > 1 else names[0]  # noqa: E731
        lit_street = bool(rng.random() < self.street_lights)
        lamps = {
            "spacing_m": sample_uniform(rng, self.lamp_spacing_m),
            "phase": float(rng.random()),
            "pole_height_m": sample_uniform(rng, self.pole_height_m),
            "offset_left_m": sample_uniform(rng, self.lamp_offset_m),
            "offset_right_m": sample_uniform(rng, self.lamp_offset_m),
            "arrangement": pick(self.lamp_arrangement),
            "intensity_cd": sample_uniform(rng, self.lamp_intensity_cd) if lit_street else 0.0,
            "spectrum": pick(self.lamp_spectrum),
        }
        return {
            "camera": cam,
            "street_lamps": lamps,
            "headlight_intensity_cd": sample_uniform(rng, self.headlight_intensity_cd) if self.headlights else 0.0,
            "headlamp_type": pick(self.headlamp_type),
            "traffic_side": self.traffic_side,
            "vehicle_lights": self._lit_boxes(sample),  # box indices; "layout": found in the layout
            "tail_light_cd": sample_uniform(rng, self.tail_light_cd),
            "ambient_lux": _log_or_uniform(rng, self.ambient_lux),
            "sky_luminance_cd_m2": _log_or_uniform(rng, self.sky_luminance_cd_m2),
            "sky_glow": sample_uniform(rng, self.sky_glow),
            "white_balance_shift": sample_uniform(rng, self.white_balance_shift),
            **self._camera_params(rng),
            "seed": draw_seed(rng),
        }

    def _camera_params(self, rng: np.random.Generator) -> dict:
        """The camera's draw: ISO (or "auto"), exposure, noise, glare and ISP."""
        full_well, read_e = sample_uniform(rng, self.full_well_e), sample_uniform(rng, self.read_noise_e)
        shot = None if self.shot_noise is None else _log_or_uniform(rng, self.shot_noise)
        read = None if self.read_noise is None else sample_uniform(rng, self.read_noise)
        return {
            "iso": "auto" if self.iso == "auto" else sample_uniform(rng, self.iso),
            "metering_target": sample_uniform(rng, self.metering_target),
            "max_iso": self.max_iso,
            "exposure_ms": self.exposure_ms,
            "f_number": self.f_number,
            "full_well_e": full_well,
            "read_noise_e": read_e,
            "shot_noise": shot,
            "read_noise": read,
            "glare_fraction": sample_uniform(rng, self.glare_fraction),
            "demosaic": self.demosaic,
            "isp_denoise": sample_uniform(rng, self.isp_denoise),
        }

    def _lit_boxes(self, sample: Mapping[str, Any]) -> list[int] | str:
        """Indices of the boxes that are vehicles (all boxes when no labels are given); "layout"
        when there are no boxes (vehicles are then found in the scene layout); [] when off."""
        if not self.vehicle_lights:
            return []
        boxes = sample.get("bboxes")
        if boxes is None or not len(boxes):
            return "layout"
        b = np.asarray(boxes, dtype=np.float64)
        if self.vehicle_labels is None or b.shape[1] < 5:
            return list(range(len(b)))
        return [i for i in range(len(b)) if int(b[i, 4]) in self.vehicle_labels]

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        scene, meta = ctx.scene, ctx.meta
        frame = scene["image"]
        shape = frame.shape[:2]
        coarse = coarse_scene(scene, params["camera"])
        coarse["camera"] = params["camera"]
        planes = radiometry.decode_planes(frame, meta)
        sun_factors, sun_share = _sun_factors(planes, coarse)
        light = night_light(params, coarse, scene, shape, sun_share)
        half = ((shape[0] + 1) // 2, (shape[1] + 1) // 2) if sun_factors is None else sun_factors[0].shape
        ego = ego_edge(coarse["labels"], frame, half)
        raw = relit_mosaic(planes, light, sky_share(planes, light), sun_factors, ego)
        raw_noise.expose(raw, light.shot, light.read, int(params["seed"]))
        return raw_noise.develop(raw, light.raw_gains, params["demosaic"], float(params["isp_denoise"]), image, meta)


def _sun_factors(planes: list[np.ndarray], coarse: Mapping[str, Any]) -> tuple[list[np.ndarray] | None, float]:
    """The half-resolution factors of :func:`.overcast.remove_sun` (the direct sun divided out:
    an albedo proxy under skylight), to be folded into Night's own pass, and the sun's share."""
    sun = estimate_sun(coarse)
    coarse["sun"] = sun  # measured once
    exposure = (1.0 - sun.share) / (1.0 - 0.5 * sun.share)  # cancels to_overcast's metering gain
    return overcast_factors(planes, coarse, exposure=exposure, sky_grey=0.0)


def _check_lamps(lamp_spectrum, street_lights, lamp_spacing_m, pole_height_m, lamp_offset_m, lamp_arrangement,
                 lamp_intensity_cd) -> dict:
    """Night's street-lamp parameters, validated."""
    return {
        "lamp_spectrum": _names(lamp_spectrum, "lamp_spectrum", LAMP_SPECTRA),
        "street_lights": check_number(street_lights, "street_lights", low=0.0, high=1.0),
        "lamp_spacing_m": check_range(lamp_spacing_m, "lamp_spacing_m", low=5.0, high=500.0),
        "pole_height_m": check_range(pole_height_m, "pole_height_m", low=2.0, high=30.0),
        "lamp_offset_m": check_range(lamp_offset_m, "lamp_offset_m", low=2.0, high=50.0),
        "lamp_arrangement": _names(lamp_arrangement, "lamp_arrangement", ARRANGEMENTS),
        "lamp_intensity_cd": check_range(lamp_intensity_cd, "lamp_intensity_cd", low=0.0, high=1e6),
    }


def _check_headlights(headlights, headlight_intensity_cd, headlamp_type, traffic_side) -> dict:
    """Night's ego-headlamp parameters, validated."""
    return {
        "headlights": _flag(headlights, "headlights"),
        "headlight_intensity_cd": check_range(headlight_intensity_cd, "headlight_intensity_cd", low=0.0, high=1e6),
        "headlamp_type": _names(headlamp_type, "headlamp_type", HEADLAMPS),
        "traffic_side": check_choice(traffic_side, "traffic_side", ("right", "left")),
    }


def _check_vehicles(vehicle_lights, vehicle_labels, tail_light_cd) -> dict:
    """Night's tail-light parameters, validated."""
    return {
        "vehicle_lights": _flag(vehicle_lights, "vehicle_lights"),
        "vehicle_labels": _check_labels(vehicle_labels),
        "tail_light_cd": check_range(tail_light_cd, "tail_light_cd", low=0.0, high=1e5),
    }


def _check_ambient(ambient_lux, sky_luminance_cd_m2, sky_glow, white_balance_shift) -> dict:
    """Night's ambient, sky and white-balance parameters, validated."""
    return {
        "ambient_lux": check_range(ambient_lux, "ambient_lux", low=0.0, high=1e5),
        "sky_luminance_cd_m2": check_range(sky_luminance_cd_m2, "sky_luminance_cd_m2", low=0.0, high=1e4),
        "sky_glow": check_range(sky_glow, "sky_glow", low=0.0, high=1e3),
        "white_balance_shift": check_range(white_balance_shift, "white_balance_shift", low=0.0, high=1.0),
    }


def _check_sensor(iso, metering_target, max_iso, exposure_ms, f_number, full_well_e, read_noise_e, shot_noise,
                  read_noise, glare_fraction, demosaic, isp_denoise) -> dict:
    """Night's camera parameters (exposure, noise, lens glare, ISP), validated."""
    return {
        "iso": "auto" if iso == "auto" else check_range(iso, "iso", low=1.0, high=1e6),
        "metering_target": check_range(metering_target, "metering_target", low=0.0, high=1.0, low_inclusive=False),
        "max_iso": check_number(max_iso, "max_iso", low=100.0),
        "exposure_ms": check_number(exposure_ms, "exposure_ms", low=0.0, low_inclusive=False),
        "f_number": check_number(f_number, "f_number", low=0.5),
        "full_well_e": check_range(full_well_e, "full_well_e", low=1.0),
        "read_noise_e": check_range(read_noise_e, "read_noise_e", low=0.0),
        "shot_noise": None if shot_noise is None else check_range(shot_noise, "shot_noise", low=0.0, high=1.0),
        "read_noise": None if read_noise is None else check_range(read_noise, "read_noise", low=0.0, high=1.0),
        "glare_fraction": check_range(glare_fraction, "glare_fraction", low=0.0, high=1.0),
        "demosaic": check_choice(demosaic, "demosaic", DEMOSAIC),
        "isp_denoise": check_range(isp_denoise, "isp_denoise", low=0.0, high=1.0),
    }


def _log_or_uniform(rng: np.random.Generator, r) -> float:
    """Log-uniform draw of a positive range (uniform when it starts at 0)."""
    return sample_log_uniform(rng, r) if r[0] > 0 else sample_uniform(rng, r)


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ParameterError(f"{name} must be True or False, got {value!r}")
    return value


def _names(value: Any, name: str, choices: Sequence[str]) -> list[str]:
    """A non-empty list of names out of ``choices`` (a single name is a list of one)."""
    names = [value] if isinstance(value, str) else list(value)
    if not names or any(n not in choices for n in names):
        raise ParameterError(f"{name} must be one of {choices} or a list of them, got {value!r}")
    return names


def _check_labels(vehicle_labels: Any) -> list[int] | None:
    """Validated vehicle box labels (None = every box is a vehicle)."""
    if vehicle_labels is None:
        return None
    if isinstance(vehicle_labels, (str, bytes)) or not all(isinstance(v, (int, np.integer)) for v in vehicle_labels):
        raise ParameterError(f"vehicle_labels must be a list of integer box labels or None, got {vehicle_labels!r}")
    return [int(v) for v in vehicle_labels]
