"""driving.Rain: rain under an overcast sky — no direct sun, streaks in depth, rain veil, wet road."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.kit import (Context, ParameterError, check_number, check_range, cv2_module, draw_seed, sample_int,
                        sample_log_uniform, sample_uniform)

from . import atmosphere, overcast, radiometry, streaks
from .base import DrivingTransform
from .depth import EGO, SKY_DEPTH_M, camera_of, check_camera_args
from .guided import guided_upsample
from .lens_droplets import render_droplets
from .plane_ops import multiply
from .rain_composite import composite
from .rain_light import horizon_sky_radiance
from .scene import clip_max, coarse_scene
from .plane_ops import upsample
from .scratch import buffer
from .snow import soften_background
from .wet_road import WetRoad, half_shape, water_cover


class Rain(DrivingTransform):
    """Rain under an overcast sky: no direct sun, drop streaks at many depths, the rain's veil, a wet road.

    Model, in linear light: the frame relit under an overcast sky (:func:`.overcast.overcast_factors`,
    folded into the one full-resolution pass, :mod:`.rain_composite`: sun shadows lifted,
    sunlit surfaces down to their diffuse level, a grey CIE overcast sky, exposed by
    ``overcast_exposure``); a wet road on the layout's ground (soaked asphalt darker,
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
        factors = None  # the overcast relighting, folded into the rain's own pass
        if params.get("overcast", True):
            factors, _ = overcast.overcast_factors(planes, coarse, exposure=float(params["overcast_exposure"]),
                                                   sky_grey=float(params["sky_grey"]))
        planes = self._rain(planes, params, coarse, ctx.scene.get("bboxes"), factors, frame=ctx.scene["image"])
        if params.get("lens_drops"):
            h, w = planes[0].shape
            lin = np.stack(planes, axis=-1)
            render_droplets(lin, params["lens_drops"], max(2, min(h, w) // 120))
            planes = [np.ascontiguousarray(lin[..., c]) for c in range(3)]
        return radiometry.encode_planes(planes, image, meta)

    def _rain(self, planes: list[np.ndarray], params: Mapping[str, Any], coarse: Mapping[str, Any],
              boxes: Any, factors: list[np.ndarray] | None = None,
              frame: np.ndarray | None = None) -> list[np.ndarray]:
        """Overcast light, wet road, rain veil and streaks on linear planes, into new (scratch) planes.

        Everything smooth — the overcast ``factors`` (half-resolution, or None), the veil's
        transmission t, the wet road's gain G, Fresnel weight W and blurred mirror M — is
        combined on the half grid into two fields per channel, S = F·t·G and
        R = A·(1 − t) + M·W·t − L, upsampled once each; the one full-resolution pass per plane
        is then ``I ← (1 − α)·(I·S + R) + L``: the wet road (I·G + M·W), relit (F), seen
        through the rain (Koschmieder: (I − A)·t + A) and behind the streaks (I·(1 − α) + L·α)."""
        h, w = planes[0].shape
        f32 = np.float32
        half = half_shape((h, w))
        small = _relit_small(coarse, factors)
        air = horizon_sky_radiance(small, coarse["labels"])  # the overcast sky at the horizon
        drop = air * f32(params["streak_brightness"])
        alpha = self._opacity((h, w), params)
        _no_streaks_on_ego(alpha, coarse["labels"], coarse["k"])
        t = self._transmission(params, coarse, half, frame) if params["veil"] else None
        if t is None:
            air = np.zeros(3, f32)  # t = 1: no airlight term
        wet = self._wet_road((h, w), params, coarse, boxes)
        wt = None
        if wet is not None:
            wt = wet.weight() if t is None else wet.weight(t[wet.y0 :])  # W·t
        gains, offsets = [], []
        for c, p in enumerate(planes):
            f = None if factors is None else factors[c]
            offsets.append(_smooth_offset(t, float(air[c]), float(drop[c]), half, wet, wt, p, f, c))
            if f is None and wet is None:
                gains.append(t)  # S = t (or 1) on every channel
            else:
                gains.append(_smooth_gain(t, f, wet, half, c))
        return list(composite(planes, alpha, gains, offsets, drop, buffer("rain_out", (3, h, w))))

    @staticmethod
    def _transmission(params: Mapping[str, Any], coarse: Mapping[str, Any], half: tuple[int, int],
                      frame: np.ndarray | None = None) -> np.ndarray:
        """The rain's transmission t on the half grid (scratch). The sky is the source of the
        airlight: seen through the rain it stays itself (t = 0 there). From the coarse grid with its
        edges on those of ``frame`` (the scene's image; :func:`.guided.guided_upsample` applied to the
        half grid's own guide: no coarse-cell staircase at the tree/sky line), bilinear without it."""
        dist = coarse["dist"]
        t = atmosphere.transmission(np.where(dist >= SKY_DEPTH_M, np.float32(0.0), dist),
                                    atmosphere.rain_extinction_per_m(float(params["rain_rate_mm_h"])))
        if not coarse["full"]:  # the pop-up background's column blocks: no bands of veil
            t = soften_background(t, coarse["labels"], float(params["camera"]["horizon_row"]) / coarse["k"])
            if frame is None:
                return upsample(t, half, out=buffer("rain_t", half))
            return guided_upsample(t, frame, half, out=buffer("rain_t", half), at_shape=True)
        return downsample_area(t, half, out=buffer("rain_t", half))

    @staticmethod
    def _opacity(shape: tuple[int, int], params: Mapping[str, Any]) -> np.ndarray:
        """α of the streaks (H×W scratch, unclipped): the share of each pixel's exposure a drop covers."""
        cam = params["camera"]
        return streaks.rain_coverage(
            shape, seed=int(params["seed"]), rain_rate_mm_h=float(params["rain_rate_mm_h"]),
            exposure_s=float(params["exposure_ms"]) * 1e-3, wind_m_s=float(params["wind_mps"]),
            ego_speed_m_s=float(params["speed_kmh"]) / 3.6, focal_px=cam["focal_length_px"],
            horizon_row=cam["horizon_row"], aperture_m=float(params["aperture_mm"]) * 1e-3,
            max_streaks=int(params["max_streaks"]), scratch=True,
        )

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


def _no_streaks_on_ego(alpha: np.ndarray, labels: np.ndarray, k: int) -> None:
    """In place: no streaks over the ego vehicle (the hood or the dashboard behind the
    windscreen is nearer than the falling drops), ``α`` → min(α, 1)·(1 − ego) on the rows
    of the layout's EGO cells."""
    rows = np.nonzero((labels == EGO).any(axis=1))[0]
    if not len(rows):
        return
    r0 = int(rows[0])
    y0 = min(r0 * k, alpha.shape[0])
    part = clip_max(alpha[y0:], 1.0)
    clear = upsample((labels[r0:] != EGO).astype(np.float32), part.shape,
                     out=buffer("rain_ego", part.shape))
    multiply(part, clear)


def _relit_small(coarse: Mapping[str, Any], factors: list[np.ndarray] | None) -> np.ndarray:
    """The coarse linear image relit by the half-resolution overcast ``factors`` (each coarse
    pixel k·i + k//2 times the factor of its half-grid cell), as the full planes would be."""
    small = coarse["small"]
    if factors is None:
        return small
    k = coarse["k"]
    hs, ws = small.shape[:2]
    out = np.empty_like(small)
    if k % 2 == 0:  # cell k·i + k//2 of the frame is half-grid cell (k/2)·i + k//4
        at = lambda f: f[k // 4 :: k // 2, k // 4 :: k // 2][:hs, :ws]  # noqa: E731
    else:
        ri = np.minimum((np.arange(hs) * k + k // 2) // 2, factors[0].shape[0] - 1)
        ci = np.minimum((np.arange(ws) * k + k // 2) // 2, factors[0].shape[1] - 1)
        at = lambda f: f[np.ix_(ri, ci)]  # noqa: E731
    for c, f in enumerate(factors):
        np.multiply(small[..., c], at(f), out=out[..., c])
    return out


def _smooth_gain(t: np.ndarray | None, factor: np.ndarray | None, wet: WetRoad | None,
                 half: tuple[int, int], c: int) -> np.ndarray | None:
    """S = F·t·G of channel ``c`` on the half grid (scratch; None when it is 1 everywhere)."""
    if t is None and factor is None and wet is None:
        return None
    s = buffer(f"rain_s{c}", half)
    if t is not None and factor is not None:
        np.multiply(t, factor, out=s)
    elif t is not None or factor is not None:
        np.copyto(s, t if t is not None else factor)
    else:
        s.fill(1.0)
    if wet is not None:
        s[wet.y0 :] *= wet.gain()
    return s


def _smooth_offset(t: np.ndarray | None, air: float, drop: float, half: tuple[int, int], wet: WetRoad | None,
                   wt: np.ndarray | None, plane: np.ndarray, factor: np.ndarray | None, c: int) -> np.ndarray:
    """R = A·(1 − t) + M·W·t − L of channel ``c`` on the half grid (scratch): the airlight,
    the wet road's relit mirror M (of ``plane`` times ``factor``) and minus the drops' radiance L."""
    r = buffer(f"rain_r{c}", half)
    if t is None:
        r.fill(-drop)
    else:
        np.multiply(t, np.float32(-air), out=r)
        r += np.float32(air - drop)
    if wet is not None:
        wet.add_mirror(plane, wt, r[wet.y0 :], factor)
    return r


def downsample_area(field: np.ndarray, shape: tuple[int, int], out: np.ndarray) -> np.ndarray:
    """A full-resolution float32 field averaged onto the half grid ``shape`` (into ``out``)."""
    field = np.ascontiguousarray(field, dtype=np.float32)
    cv2 = cv2_module()
    if cv2 is not None and field.size and field.shape[1] < 2**20:
        return cv2.resize(field, (shape[1], shape[0]), dst=out, interpolation=cv2.INTER_AREA)
    h, w = field.shape
    pad = np.pad(field, ((0, 2 * shape[0] - h), (0, 2 * shape[1] - w)), mode="edge")
    np.copyto(out, pad.reshape(shape[0], 2, shape[1], 2).mean(axis=(1, 3)))
    return out
