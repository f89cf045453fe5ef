"""driving.Rain: falling rain seen by a car camera — streaks in depth, rain veil, wet road."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.kit import (Context, ParameterError, check_number, check_range, draw_seed, sample_int,
                        sample_log_uniform, sample_uniform)

from . import atmosphere, radiometry, streaks
from .base import DrivingTransform
from .depth import camera_of, check_camera_args
from .lens_droplets import render_droplets
from .road import WetRoad, road_texture
from .scene import add_product, bright_colour, clip_max, coarse_scene, upsample, weighted_sum
from .scratch import buffer


class Rain(DrivingTransform):
    """Rain: motion-blurred drop streaks at many depths, the haze of rain, and a wet road.

    Model: Garg & Nayar (IJCV 2007; TOG 2006) streaks — Marshall–Palmer drop sizes, fall
    speed 200·√a, streak length f·v·T/Z, opacity τ/T — rendered like Halder et al. (ICCV 2019)
    with rain extinction β = 0.312·R^0.67 km⁻¹ applied by Koschmieder's law, wet asphalt
    darkening (Lekner & Dorf 1988) and Fresnel road reflections; all in linear light.

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
        Road wetness 0–1 (darkening and reflection strength); None = min(1, R / 4 mm/h).
    streak_brightness : float or (low, high)
        Drop radiance as a multiple of the mean of the scene's brightest 10 % (drops refract
        the sky and lights around them; Garg & Nayar 2007).
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
        rain_rate_mm_h: Any = (5.0, 50.0),
        exposure_ms: Any = (3.0, 8.0),
        wind_mps: Any = (-3.0, 3.0),
        speed_kmh: Any = 0.0,
        wetness: Any = None,
        streak_brightness: Any = (1.2, 2.0),
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
        self.streak_brightness = check_range(streak_brightness, "streak_brightness", low=0.0, high=10.0)
        if not isinstance(veil, bool):
            raise ParameterError(f"veil must be True or False, got {veil!r}")
        self.veil = veil
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
            "streak_brightness": sample_uniform(rng, self.streak_brightness),
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
        planes = self._rain(planes, params, ctx.scene)
        if params.get("lens_drops"):
            h, w = planes[0].shape
            lin = np.stack(planes, axis=-1)
            render_droplets(lin, params["lens_drops"], max(2, min(h, w) // 120))
            planes = [np.ascontiguousarray(lin[..., c]) for c in range(3)]
        return radiometry.encode_planes(planes, image, meta)

    def _rain(self, planes: list[np.ndarray], params: Mapping[str, Any], scene: Mapping[str, Any]) -> list[np.ndarray]:
        """Streaks, rain veil and wet road on linear planes, into new (scratch) planes."""
        h, w = planes[0].shape
        cam = params["camera"]
        seed = int(params["seed"])
        rate = float(params["rain_rate_mm_h"])
        f32 = np.float32
        coarse = coarse_scene(scene, cam, grid_px=128)  # the rain veil is faint and smooth: a coarse grid
        # a drop refracts ~165° of the scene, dominated by the sky and lights: take the mean
        # colour of the brightest 10 % of pixels as the environment radiance it shows
        env = bright_colour(coarse["small"])
        oma = self._one_minus_opacity((h, w), params)
        air = np.zeros(3, f32)
        g = oma  # the gain of the background: t·(1 − α)
        if params["veil"]:
            t = atmosphere.transmission(coarse["dist"], atmosphere.rain_extinction_per_m(rate))
            air = np.asarray(atmosphere.estimate_airlight(coarse["small"], coarse["sky"], fallback=float(env.mean())), f32)
            g = t if coarse["full"] else upsample(t, (h, w), out=buffer("rain_gain", (h, w)))
            g *= oma
        wet = self._wet_road(h, w, cam, params, seed, scene.get("bboxes"))
        if wet is not None:  # darkening folded into the gain, reflection weighted by it
            y0 = wet.y0
            g_road = wet.gain_rows(g, buffer("rain_gain_road", (h - y0, w)))
            w_road = wet.weight(g[y0:], in_place=True)
        drop = env * f32(params["streak_brightness"])
        out = buffer("rain_out", (3, h, w))
        for c, p in enumerate(planes):
            # wet road (I·keep + M·W, Lekner & Dorf + Fresnel), rain veil (Koschmieder:
            # (I − A)·t + A) and streaks (I·(1 − α) + L·α) in one pass per plane:
            # I ← I·keep·g + M·W·g + L − A·g − (L − A)·(1 − α), with g = t·(1 − α)
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
    def _wet_road(h: int, w: int, cam: Mapping[str, float], params: Mapping[str, Any], seed: int,
                  boxes: Any) -> WetRoad | None:
        """The wet road with soft puddles on ~35 % of it, textured on the road plane (None when dry)."""
        y0 = int(np.clip(np.ceil(cam["horizon_row"]), 0, h))
        if params["wetness"] <= 0 or y0 >= h:
            return None
        y_road = int(np.clip(np.ceil(cam["horizon_row"] + 0.5), 0, h))  # y0 or y0 + 1
        puddles = buffer("rain_puddles", (h - y0, w))
        puddles[: y_road - y0] = 0.0  # the row between the horizon and the first road-plane row
        if y_road < h:  # evaluated every 4th pixel, bilinearly upsampled (puddle edges are soft)
            _, _, tex = road_texture((h, w), cam, seed ^ 0x5EED, patch_cells=12.0, grid=128, step=4)
            tex -= np.float32(0.4)
            tex *= np.float32(0.5)
            np.clip(tex, 0.0, 0.5, out=tex)
            upsample(tex, (h - y_road, w), out=puddles[y_road - y0 :])
        return WetRoad(h, w, horizon_row=cam["horizon_row"], focal_length_px=cam["focal_length_px"],
                       camera_height_m=cam["camera_height_m"], wetness=float(params["wetness"]),
                       puddles=puddles, boxes=boxes)
