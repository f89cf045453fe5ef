"""driving.Snow: falling flakes in depth, snow lying on upward-facing surfaces, and snow haze."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.kit import Context, check_number, check_range, cv2_module, draw_seed, sample_log_uniform, sample_uniform

from . import atmosphere, radiometry, streaks
from .base import DrivingTransform
from .depth import camera_of, check_camera_args
from .road import road_texture, upsample2, upsample2_into
from .scene import clip_max, coarse_scene, scale_add, upsample
from .scratch import buffer


def ledges(linear: np.ndarray, gain: float = 1.0, exclude: np.ndarray | None = None, k: int = 1,
           out: np.ndarray | None = None) -> np.ndarray:
    """Horizontal structures (H×W float32, 0–1) of an RGB image or its green plane: where
    local structure is a horizontal edge (|∂Y/∂y|² ≫ |∂Y/∂x|² over 10 px), × ``gain``,
    clipped to 1 and 0 where ``exclude`` (a mask on the grid of every ``k``-th pixel, e.g.
    the sky); computed at half resolution (in scratch buffers). Written to ``out`` (float32
    H×W, rows may be strided) when given, else a new array."""
    cv2 = cv2_module()
    if cv2 is not None:  # same 5×5 box and mirrored edges as scipy's uniform_filter (mode="reflect")
        def uniform_filter(a: np.ndarray, size: int, output: np.ndarray) -> np.ndarray:
            return cv2.blur(a, (size, size), dst=output, borderType=cv2.BORDER_REFLECT)
    else:
        from scipy.ndimage import uniform_filter

    h, w = linear.shape[:2]
    half = linear[::2, ::2, 1] if linear.ndim == 3 else linear[::2, ::2]
    y = buffer("ledges_y", half.shape)
    np.copyto(y, half)
    gy = buffer("ledges_gy", y.shape)  # vertical and horizontal central differences, 0 on the border
    gy[0] = gy[-1] = 0.0
    np.subtract(y[2:], y[:-2], out=gy[1:-1])
    gx = buffer("ledges_gx", y.shape)
    gx[:, 0] = gx[:, -1] = 0.0
    np.subtract(y[:, 2:], y[:, :-2], out=gx[:, 1:-1])
    jyy = uniform_filter(np.multiply(gy, gy, out=gy), 5, output=buffer("ledges_jyy", y.shape))
    jxx = uniform_filter(np.multiply(gx, gx, out=gx), 5, output=buffer("ledges_jxx", y.shape))
    small = np.multiply(jxx, 3.0, out=y)  # (jyy − 3·jxx) / (jyy + jxx + 1e-4) · gain, clipped to 0–1
    np.subtract(jyy, small, out=small)
    den = np.add(jyy, jxx, out=jxx)
    den += 1e-4
    small /= den
    small *= np.float32(gain)
    np.clip(small, 0.0, 1.0, out=small)
    if exclude is not None and exclude.size:  # half-res pixel i covers full rows 2i, 2i + 1
        rows = np.minimum(np.arange(small.shape[0]) * 2 // k, exclude.shape[0] - 1)
        cols = np.minimum(np.arange(small.shape[1]) * 2 // k, exclude.shape[1] - 1)
        small[exclude[rows][:, cols]] = 0.0
    if out is None:
        return upsample2(small, h, w)
    return upsample2_into(small, out)


def ground_snow(shape: tuple[int, int], camera: Mapping[str, float], seed: int, cover: float,
                out: np.ndarray | None = None) -> np.ndarray:
    """Snow lying on the road plane (H×W float32, 0–1), textured in *ground* coordinates.

    Patchiness comes from :func:`road.road_texture` (noise laid on the road plane, so
    patches shrink with distance like real ones; its contrast fades with distance); wheel
    tracks (±0.8 m around the centre of 3.7 m lanes) stay darker. Written to ``out``
    (float32 H×W, any contents) when given, else a new array.
    """
    h, w = shape
    vh = camera["horizon_row"]
    y0 = int(np.clip(np.ceil(vh + 0.5), 0, h))
    if out is None:
        out = np.zeros(shape, dtype=np.float32)
    else:
        out[:y0] = 0.0
    if y0 >= h or cover <= 0:
        out[y0:] = 0.0
        return out
    z, x, tex = road_texture((h, w), camera, seed, grid=128)
    lane = x * np.float32(1.0 / 3.7)  # distance to the lane centre (m): |(x + 1.85) mod 3.7 − 1.85|
    lane += np.float32(0.5)
    lane -= np.floor(lane)
    lane -= np.float32(0.5)
    lane = np.abs(lane, out=lane)
    lane *= np.float32(3.7)
    lane -= 0.8
    lane *= 1.0 / 0.25
    tracks = np.exp(-0.5 * lane * lane)
    # texture contrast fades with distance (many patches per pixel far away average out)
    tex *= (0.3 * np.exp(-z / 40.0) + 0.05)[:, None].astype(np.float32)
    amount = cover * 1.4 + tex - (0.5 * (1.0 - 0.5 * cover)) * tracks
    np.clip(amount, 0.0, 1.0, out=amount)
    upsample2_into(amount, out[y0:])
    return out


class Snow(DrivingTransform):
    """Snow: falling flakes in depth, snow lying on upward-facing surfaces, and snow haze.

    Flakes are big soft blobs near the camera and fine dots far away; lying snow covers
    the road (with wheel tracks), horizontal ledges and car roofs.

    Model: flake number density from the extinction it causes (β = N·2π⟨r²⟩, Koschmieder
    V = 2.996/β; NWS: light snow V > 800 m, heavy ≤ 400 m), exponential flake sizes
    (Gunn & Marshall 1958), fall 0.5–1.5 m/s, defocus f·A/Z; haze with white airlight;
    ground cover as in von Bernuth et al. (ITSC 2019), from the image instead of normals.

    Parameters
    ----------
    visibility_m : float or (low, high)
        Visibility in falling snow (m, log-uniform); sets both flake count and haze.
    flake_size_mm : float or (low, high)
        Mean flake diameter (mm): 1–10 mm, aggregates up to 20 mm.
    exposure_ms : float or (low, high)
        Exposure time (ms): flake motion streaks grow with it.
    wind_mps, speed_kmh : float or (low, high)
        Lateral wind (m/s) and ego speed (km/h) moving the flakes across the image.
    ground_cover : float or (low, high)
        Fraction 0–1 of upward-facing surfaces covered with lying snow (patchy).
    max_flakes : int
        Cap on drawn flakes (more physical flakes share their opacity among these).
    focal_length_px, horizon_row, camera_height_m : float or None
        Camera (None: ``meta`` or 0.9·W, 0.58·H, 1.3 m;
        ``horizon_row="estimate"``: from the lane vanishing point).

    Targets: image (RGB; uint8/uint16 sRGB, float linear); others pass unchanged.
    """

    def __init__(
        self,
        visibility_m: Any = (300.0, 2000.0),
        flake_size_mm: Any = (2.0, 6.0),
        exposure_ms: Any = (3.0, 10.0),
        wind_mps: Any = (-2.0, 2.0),
        speed_kmh: Any = 0.0,
        ground_cover: Any = (0.2, 0.8),
        max_flakes: int = 20000,
        focal_length_px: float | None = None,
        horizon_row: float | str | None = None,
        camera_height_m: float | None = None,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.visibility_m = check_range(visibility_m, "visibility_m", low=0.0, low_inclusive=False)
        self.flake_size_mm = check_range(flake_size_mm, "flake_size_mm", low=0.1, high=30.0)
        self.exposure_ms = check_range(exposure_ms, "exposure_ms", low=0.0, high=1000.0, low_inclusive=False)
        self.wind_mps = check_range(wind_mps, "wind_mps", low=-50.0, high=50.0)
        self.speed_kmh = check_range(speed_kmh, "speed_kmh", low=0.0, high=300.0)
        self.ground_cover = check_range(ground_cover, "ground_cover", low=0.0, high=1.0)
        self.max_flakes = check_number(max_flakes, "max_flakes", low=1, high=1_000_000, integer=True)
        self.camera_args = check_camera_args(focal_length_px, horizon_row, camera_height_m)

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        h, w = sample["image"].shape[:2]
        return {
            "visibility_m": sample_log_uniform(rng, self.visibility_m),
            "flake_size_mm": sample_uniform(rng, self.flake_size_mm),
            "exposure_ms": sample_uniform(rng, self.exposure_ms),
            "wind_mps": sample_uniform(rng, self.wind_mps),
            "speed_kmh": sample_uniform(rng, self.speed_kmh),
            "ground_cover": sample_uniform(rng, self.ground_cover),
            "max_flakes": self.max_flakes,
            "camera": camera_of(sample, self.camera_args),
            "seed": draw_seed(rng),
        }

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        frame, meta = ctx.scene["image"], ctx.meta
        planes = radiometry.decode_planes(frame, meta)
        h, w = planes[0].shape
        f32 = np.float32
        cam = params["camera"]
        beta = atmosphere.beta_from_visibility(params["visibility_m"])
        coarse = coarse_scene(ctx.scene, cam)
        airlight, white = _sky_light(coarse)
        t = atmosphere.transmission(coarse["dist"], beta)
        if not coarse["full"]:  # every frame-sized intermediate: scratch, no page faults
            t = upsample(t, (h, w), out=buffer("snow_t", (h, w)))
        amount = _lying_snow(planes[1], params, coarse, ctx.scene.get("bboxes"))
        flakes = streaks.snow_coverage(
            (h, w), seed=int(params["seed"]), extinction_per_m=beta, mean_diameter_mm=float(params["flake_size_mm"]),
            exposure_s=float(params["exposure_ms"]) * 1e-3, fall_m_s=1.0, wind_m_s=float(params["wind_mps"]),
            ego_speed_m_s=float(params["speed_kmh"]) / 3.6, focal_px=cam["focal_length_px"],
            horizon_row=cam["horizon_row"], max_flakes=int(params["max_flakes"]), scratch=True,
        )
        # lying snow (I + a·(W − I)), the snow haze (Koschmieder: (I − A)·t + A) and the flakes
        # (I + φ·(W − I)) in one pass per plane: I ← I·G + W·V + A·U with
        # G = (1 − a)·t·(1 − φ), V = a·t·(1 − φ) + φ, U = (1 − t)·(1 − φ)
        clip_max(flakes, 1.0)
        keep = np.subtract(f32(1.0), flakes, out=buffer("snow_keep", (h, w)))  # 1 − φ
        u = np.subtract(f32(1.0), t, out=buffer("snow_u", (h, w)))
        u *= keep
        t *= keep  # t·(1 − φ)
        if amount is not None:
            v = amount
            v *= t  # a·t·(1 − φ)
            t -= v  # G
            v += flakes
        else:
            v = flakes
        for c, p in enumerate(planes):
            p *= t
            scale_add(v, float(white[c]), p)
            scale_add(u, float(airlight[c]), p)
        return radiometry.encode_planes(planes, image, meta)


def _sky_light(coarse: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(airlight, snow colour) (3,) each: the sky's colour, or the daylight level (95th
    percentile of luminance) when no sky is seen; snow (albedo ≈ 0.9) lit by the overcast
    sky dome takes the sky's colour."""
    f32 = np.float32
    yy = coarse["small"].reshape(-1, 3) @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
    q = int(0.95 * (len(yy) - 1))
    ambient = float(np.partition(yy, q)[q])
    airlight = np.asarray(atmosphere.estimate_airlight(coarse["small"], coarse["sky"], fallback=ambient), f32)
    white = np.clip(0.9 * np.maximum(airlight, 0.05), 0.0, 1.0).astype(f32)
    return airlight, white


def _lying_snow(green: np.ndarray, params: Mapping[str, Any], coarse: Mapping[str, Any],
                boxes: Any) -> np.ndarray | None:
    """Fraction 0–1 of snow lying on each pixel (H×W scratch; None when ``ground_cover`` is 0):
    the road (:func:`ground_snow`), ledges above the horizon (never in the sky) and the
    roof band of vehicle boxes. ``green`` is the linear green plane."""
    cover = float(params["ground_cover"])
    if cover <= 0:
        return None
    h, w = green.shape
    cam = params["camera"]
    amount = ground_snow((h, w), cam, int(params["seed"]) ^ 0x50F7, cover, out=buffer("snow_amount", (h, w)))
    y0 = int(np.clip(np.ceil(cam["horizon_row"]), 0, h))
    if y0 > 0:  # ledges above the horizon, never in the sky
        ledges(green[:y0], cover * 0.8, coarse["sky"], coarse["k"], out=amount[:y0])
    if boxes is not None and len(boxes):  # vehicles: snow on the roof band only
        for x0, b0, x1, b1 in np.asarray(boxes, dtype=np.float64)[:, :4]:
            r0, r1 = int(np.clip(b0, 0, h)), int(np.clip(np.ceil(b1), 0, h))
            c0, c1 = int(np.clip(x0, 0, w)), int(np.clip(np.ceil(x1), 0, w))
            amount[r0:r1, c0:c1] *= 0.1
            amount[r0 : r0 + max(1, (r1 - r0) // 5), c0:c1] = 0.8 * cover
    return amount
