"""driving.Rain: rain under an overcast sky — no direct sun, streaks in depth, rain veil, wet road."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.kit import (Context, ParameterError, check_number, check_range, draw_seed, sample_int,
                        sample_log_uniform, sample_uniform)

from . import atmosphere, overcast, radiometry, streaks
from .base import DrivingTransform
from .depth import EGO, SKY_DEPTH_M, camera_of, check_camera_args
from .lens_droplets import render_droplets
from .rain_light import coarse_samples, horizon_sky_radiance
from .scene import add_product, clip_max, coarse_scene, upsample, weighted_sum
from .scratch import buffer
from .snow import soften_background
from .wet_road import WetRoad, water_cover


class Rain(DrivingTransform):
    """Rain under an overcast sky: no direct sun, drop streaks at many depths, the rain's veil, a wet road.

    Model, in linear light: the frame relit under an overcast sky (:func:`.overcast.to_overcast`:
    sun shadows lifted, sunlit surfaces down to their diffuse level, a grey CIE overcast sky,
    exposed by ``overcast_exposure``); a wet road on the layout's ground (soaked asphalt darker,
    Lekner & Dorf 1988; a water film and puddles mirroring the scene about each object's
    contact row with Schlick's Fresnel weight, Jensen et al. 1999); rain extinction
    β = 0.312·R^0.67 km⁻¹ by Koschmieder's law at the layout's distances (the background above
    the horizon averaged along rows: :func:`.snow.soften_background`), airlight the
    overcast sky at the horizon (the sky, the airlight's source, stays itself); Garg & Nayar
    (IJCV 2007; TOG 2006) streaks — Marshall–Palmer drop sizes, fall speed 200·√a, length
    f·v·T/Z, defocus f·A/Z — blending background and drop radiance (≈ the sky's) with weight
    τ/T, as rendered by Halder et al. (ICCV 2019); none over the ego vehicle (hood, dashboard).

    Parameters
    ----------
    rain_rate_mm_h : float or (low, high)
        Rain rate R (mm/h, log-uniform): light < 2.5, moderate 2.5–7.6, heavy > 7.6, violent > 50.
    exposure_ms : float or (low, high)
        Exposure time T (ms): longer exposure, longer and fainter streaks.
    wind_mps : float or (low, high)
        Horizontal wind across the view (m/s, + = to the right): tilts the streaks.
    speed_kmh : float or (low, high)
        Ego speed (km/h): streaks also stretch radially away from the focus of expansion.
    wetness : float or (low, high) or None
        Road wetness 0–1 (darkening, water film); None = min(1, R / 4 mm/h).
    puddle_fraction : float or (low, high)
        Share of the road under standing water (mirror-smooth puddles).
    streak_brightness : float or (low, high)
        Drop radiance as a fraction of the overcast sky's radiance at the horizon (a drop
        refracts ≈ 165° of its environment, half sky and half ground; Garg & Nayar 2007).
    overcast : bool
        Relight the frame under an overcast sky (False: the frame's light is kept).
    overcast_exposure : float or (low, high)
        Exposure of the overcast scene relative to a dash-cam's metering of a bright overcast
        day (< 1: rain clouds are darker and metering makes up only part of it).
    sky_grey : float or (low, high)
        How far the sky turns into the grey overcast sky (0–1).
    veil : bool
        Apply the rain extinction (haze) by distance.
    max_streaks : int
        Cap on drawn drops (more physical drops share their opacity among these).
    aperture_mm : float
        Lens aperture diameter (mm) setting the defocus of near drops (lens focused at ∞).
    lens_drops : int or (low, high)
        Drops stuck on the lens/windshield (refracting, see ``driving.LensDroplets``).
    focal_length_px, horizon_row, camera_height_m : float or None
        Camera (None: ``meta`` or 0.9·W, 0.58·H, 1.3 m;
        ``horizon_row="estimate"``: from the lane vanishing point).

    Targets: image (RGB; uint8/uint16 sRGB, float linear); others pass unchanged.
    """

    def __init__(
        self,
        rain_rate_mm_h: Any = (5.0, 10.0),
        exposure_ms: Any = (3.0, 8.0),
        wind_mps: Any = (-3.0, 3.0),
        speed_kmh: Any = 0.0,
        wetness: Any = None,
        puddle_fraction: Any = (0.05, 0.2),
        streak_brightness: Any = (0.7, 1.0),
        overcast: bool = True,
        overcast_exposure: Any = (0.6, 0.85),
        sky_grey: Any = (0.8, 1.0),
        veil: bool = True,
        max_streaks: int = 20000,
        aperture_mm: float = 2.0,
        lens_drops: Any = 0,
        focal_length_px: float | None = None,
        horizon_row: float | str | None = None,
        camera_height_m: float | None = None,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.rain_rate_mm_h = check_range(rain_rate_mm_h, "rain_rate_mm_h", low=0.0, high=500.0, low_inclusive=False)
        self.exposure_ms = check_range(exposure_ms, "exposure_ms", low=0.0, high=1000.0, low_inclusive=False)
        self.wind_mps = check_range(wind_mps, "wind_mps", low=-50.0, high=50.0)
        self.speed_kmh = check_range(speed_kmh, "speed_kmh", low=0.0, high=300.0)
        self.wetness = None if wetness is None else check_range(wetness, "wetness", low=0.0, high=1.0)
        self.puddle_fraction = check_range(puddle_fraction, "puddle_fraction", low=0.0, high=1.0)
        self.streak_brightness = check_range(streak_brightness, "streak_brightness", low=0.0, high=10.0)
        self.overcast_exposure = check_range(overcast_exposure, "overcast_exposure", low=0.0, high=4.0,
                                             low_inclusive=False)
        self.sky_grey = check_range(sky_grey, "sky_grey", low=0.0, high=1.0)
        for name, flag in (("overcast", overcast), ("veil", veil)):
            if not isinstance(flag, bool):
                raise ParameterError(f"{name} must be True or False, got {flag!r}")
        self.overcast, self.veil = overcast, veil
        self.max_streaks = check_number(max_streaks, "max_streaks", low=1, high=1_000_000, integer=True)
        self.aperture_mm = check_number(aperture_mm, "aperture_mm", low=0.0, high=100.0)
        self.lens_drops = check_range(lens_drops, "lens_drops", low=0, high=2000, integer=True)
        self.camera_args = check_camera_args(focal_length_px, horizon_row, camera_height_m)

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        h, w = sample["image"].shape[:2]
        rate = sample_log_uniform(rng, self.rain_rate_mm_h)
        wet = min(1.0, rate / 4.0) if self.wetness is None else sample_uniform(rng, self.wetness)
        short = min(h, w)
        drops = [
            {"row": float(rng.uniform(0, h)), "col": float(rng.uniform(0, w)),
             "radius": float(max(1.5, rng.uniform(0.008, 0.04) * short)), "aspect": float(rng.uniform(0.8, 1.25)),
             "mag": float(rng.uniform(2.0, 5.0))}
            for _ in range(sample_int(rng, self.lens_drops))
        ]
        return {
            "rain_rate_mm_h": rate,
            "exposure_ms": sample_uniform(rng, self.exposure_ms),
            "wind_mps": sample_uniform(rng, self.wind_mps),
            "speed_kmh": sample_uniform(rng, self.speed_kmh),
            "wetness": wet,
            "puddle_fraction": sample_uniform(rng, self.puddle_fraction),
            "streak_brightness": sample_uniform(rng, self.streak_brightness),
            "overcast": self.overcast,
            "overcast_exposure": sample_uniform(rng, self.overcast_exposure),
            "sky_grey": sample_uniform(rng, self.sky_grey),
            "veil": self.veil,
            "max_streaks": self.max_streaks,
            "aperture_mm": self.aperture_mm,
            "camera": camera_of(sample, self.camera_args),
            "lens_drops": drops,
            "seed": draw_seed(rng),
        }

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        frame, meta = ctx.scene["image"], ctx.meta
        planes = radiometry.decode_planes(frame, meta)
        coarse = coarse_scene(ctx.scene, params["camera"])
        coarse["camera"] = params["camera"]
        if params.get("overcast", True):
            overcast.to_overcast(planes, coarse, exposure=float(params["overcast_exposure"]),
                                 sky_grey=float(params["sky_grey"]))
        planes = self._rain(planes, params, coarse, ctx.scene.get("bboxes"))
        if params.get("lens_drops"):
            h, w = planes[0].shape
            lin = np.stack(planes, axis=-1)
            render_droplets(lin, params["lens_drops"], max(2, min(h, w) // 120))
            planes = [np.ascontiguousarray(lin[..., c]) for c in range(3)]
        return radiometry.encode_planes(planes, image, meta)

    def _rain(self, planes: list[np.ndarray], params: Mapping[str, Any], coarse: Mapping[str, Any],
              boxes: Any) -> list[np.ndarray]:
        """Wet road, rain veil and streaks on linear planes, into new (scratch) planes."""
        h, w = planes[0].shape
        rate = float(params["rain_rate_mm_h"])
        f32 = np.float32
        small = coarse_samples(planes, coarse["k"], coarse["labels"].shape)
        air = horizon_sky_radiance(small, coarse["labels"])  # the overcast sky at the horizon
        oma = self._one_minus_opacity((h, w), params)
        _no_streaks_on_ego(oma, coarse["labels"], coarse["k"])
        g = oma  # the gain of the background: t·(1 − α)
        if params["veil"]:  # the sky is the source of the airlight: seen through the rain it stays itself
            dist = coarse["dist"]
            t = atmosphere.transmission(np.where(dist >= SKY_DEPTH_M, np.float32(0.0), dist),
                                        atmosphere.rain_extinction_per_m(rate))
            if not coarse["full"]:  # the pop-up background's column blocks: no bands of veil
                t = soften_background(t, coarse["labels"], float(params["camera"]["horizon_row"]) / coarse["k"])
            g = t if coarse["full"] else upsample(t, (h, w), out=buffer("rain_gain", (h, w)))
            g *= oma
        wet = self._wet_road((h, w), params, coarse, boxes)
        if wet is not None:  # darkening folded into the gain, reflection weighted by it
            y0 = wet.y0
            g_road = wet.gain(g, buffer("rain_gain_road", (h - y0, w)))
            w_road = wet.weight(g[y0:])
        drop = air * f32(params["streak_brightness"])
        if not params["veil"]:
            air = np.zeros(3, f32)  # t = 1: no airlight term
        out = buffer("rain_out", (3, h, w))
        for c, p in enumerate(planes):
            # wet road (I·gain + M·W), rain veil (Koschmieder: (I − A)·t + A) and streaks
            # (I·(1 − α) + L·α) in one pass per plane:
            # I ← I·gain·g + M·W·g + L − A·g − (L − A)·(1 − α), with g = t·(1 − α)
            o = out[c]
            weighted_sum(g, -float(air[c]), oma, -float(drop[c] - air[c]), float(drop[c]), out=o)
            if wet is not None:
                wet.add_mirror(p, w_road, o[y0:])
                add_product(p[:y0], g[:y0], o[:y0])
                add_product(p[y0:], g_road, o[y0:])
            else:
                add_product(p, g, o)
        return list(out)

    @staticmethod
    def _one_minus_opacity(shape: tuple[int, int], params: Mapping[str, Any]) -> np.ndarray:
        """1 − α of the streaks (H×W scratch): the fraction of the background still seen."""
        cam = params["camera"]
        cover = streaks.rain_coverage(
            shape, seed=int(params["seed"]), rain_rate_mm_h=float(params["rain_rate_mm_h"]),
            exposure_s=float(params["exposure_ms"]) * 1e-3, wind_m_s=float(params["wind_mps"]),
            ego_speed_m_s=float(params["speed_kmh"]) / 3.6, focal_px=cam["focal_length_px"],
            horizon_row=cam["horizon_row"], aperture_m=float(params["aperture_mm"]) * 1e-3,
            max_streaks=int(params["max_streaks"]), scratch=True,
        )
        clip_max(cover, 1.0)  # opacity α ≤ 1
        np.subtract(np.float32(1.0), cover, out=cover)
        return cover

    @staticmethod
    def _wet_road(shape: tuple[int, int], params: Mapping[str, Any], coarse: Mapping[str, Any],
                  boxes: Any) -> WetRoad | None:
        """The wet road on the layout's ground: a water film (a third of the surface at full
        wetness) and puddles, textured on the road plane (None when dry or no road)."""
        cam, wetness = params["camera"], float(params["wetness"])
        if wetness <= 0:
            return None
        film = 0.35 * wetness
        cover = water_cover(shape, cam, int(params["seed"]) ^ 0x5EED, film=film,
                            puddle_fraction=float(params["puddle_fraction"]) * min(1.0, wetness))
        wet = WetRoad(shape, cam, coarse["labels"], coarse["k"], wetness=wetness, cover=cover, film=film,
                      boxes=boxes)
        return wet if wet.active else None


def _no_streaks_on_ego(oma: np.ndarray, labels: np.ndarray, k: int) -> None:
    """In place: no streaks over the ego vehicle (the hood or the dashboard behind the
    windscreen is nearer than the falling drops), ``1 − α`` → 1 on the layout's EGO cells."""
    rows = np.nonzero((labels == EGO).any(axis=1))[0]
    if not len(rows):
        return
    r0 = int(rows[0])
    y0 = min(r0 * k, oma.shape[0])
    ego = upsample((labels[r0:] == EGO).astype(np.float32), (oma.shape[0] - y0, oma.shape[1]),
                   out=buffer("rain_ego", (oma.shape[0] - y0, oma.shape[1])))
    part = oma[y0:]
    ego *= np.float32(1.0) - part  # 1 − α + ego·α
    part += ego
