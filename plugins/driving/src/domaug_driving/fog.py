"""driving.Fog: fog that thickens with distance (Koschmieder's law in linear light)."""

from __future__ import annotations

import functools
from typing import Any, Mapping

import numpy as np

from domaug.kit import (Context, ParameterError, check_number, check_range, cv2_module, draw_seed, sample_log_uniform,
                        linear_to_srgb8, sample_uniform, srgb_decode_table)

from . import atmosphere, radiometry
from .base import DrivingTransform
from .camera import decimate, grid_step
from .depth import CAP_M, SKY_DEPTH_M, camera_of, check_camera_args, depth_of_sample
from .fields import noise_field
from .layout import LAYOUT_GRID_PX, layout_from_small
from .guided import guided_upsample
from .scratch import buffer


class Fog(DrivingTransform):
    """Fog: each pixel's light is attenuated and replaced by airlight as distance grows.

    Model: Koschmieder's law I = J·t + A·(1 − t), t = exp(−β·ℓ), β = ln 20 / V
    (meteorological optical range, 5 % contrast; Sakaridis et al., IJCV 2018), in linear light.

    The distance ℓ comes from the ``depth`` target (metres) when given, else from the
    flat-road prior of :mod:`domaug_driving.depth` (ground plane, sky, boxes as billboards,
    optional ``sky_mask``/``road_mask``). Integer images are sRGB-decoded and re-encoded,
    float images are taken as linear radiance.

    Parameters
    ----------
    visibility_m : float or (low, high)
        Meteorological optical range V in metres (drawn log-uniformly). WMO fog: V < 1000 m.
    airlight : float or (low, high) or "estimate"
        Atmospheric light A as a fraction of full scale in linear light (grey), or
        ``"estimate"``: the median colour of the brightest sky pixels.
    density_variation : float or (low, high)
        0 = homogeneous fog; > 0 = β multiplied by ``1 + density_variation·N`` with N a smooth
        unit-std noise field (patchy fog), clipped at 0.05.
    patch_size_px : float
        Feature size of that noise field (default: a quarter of the image width).
    scatter_blur_px : float or (low, high)
        Gaussian σ (px) of forward-scattering blur reached where t → 0 (0 = none).
    focal_length_px, horizon_row, camera_height_m : float or None
        Camera for the depth prior (None: ``meta`` values, else 0.9·W, 0.58·H, 1.3 m);
        ``horizon_row="estimate"`` finds the lane vanishing point (``depth.estimate_horizon``).
    cap_m : float
        Distance given to non-sky pixels above the horizon by the prior.

    Targets: image (RGB, uint8/uint16 sRGB or float linear); adds ``transmission`` (float32
    t per pixel, multiplied into an existing one); every other target passes unchanged.
    """

    def __init__(
        self,
        visibility_m: Any = (50.0, 1000.0),
        airlight: Any = (0.8, 0.9),
        density_variation: Any = (0.0, 0.3),
        patch_size_px: float | None = None,
        scatter_blur_px: Any = 0.0,
        focal_length_px: float | None = None,
        horizon_row: float | str | None = None,
        camera_height_m: float | None = None,
        cap_m: float = CAP_M,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.visibility_m = check_range(visibility_m, "visibility_m", low=0.0, low_inclusive=False)
        if isinstance(airlight, str):
            if airlight != "estimate":
                raise ParameterError(f"airlight must be a fraction of full scale, a (low, high) pair or 'estimate', got {airlight!r}")
            self.airlight: Any = airlight
        else:
            self.airlight = check_range(airlight, "airlight", low=0.0, high=1.0)
        self.density_variation = check_range(density_variation, "density_variation", low=0.0, high=2.0)
        self.patch_size_px = None if patch_size_px is None else check_number(patch_size_px, "patch_size_px", low=1.0)
        self.scatter_blur_px = check_range(scatter_blur_px, "scatter_blur_px", low=0.0, high=50.0)
        self.camera_args = check_camera_args(focal_length_px, horizon_row, camera_height_m)
        self.cap_m = check_number(cap_m, "cap_m", low=0.0, low_inclusive=False)

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        h, w = sample["image"].shape[:2]
        visibility = sample_log_uniform(rng, self.visibility_m)
        airlight = "estimate" if self.airlight == "estimate" else sample_uniform(rng, self.airlight)
        dv = sample_uniform(rng, self.density_variation)
        return {
            "visibility_m": visibility,
            "beta_per_m": atmosphere.beta_from_visibility(visibility),
            "airlight": airlight,
            "density_variation": dv,
            "seed": draw_seed(rng) if dv > 0 else 0,
            "patch_size_px": self.patch_size_px or max(w, h) / 4.0,
            "scatter_blur_px": sample_uniform(rng, self.scatter_blur_px),
            "camera": camera_of(sample, self.camera_args),
            "cap_m": self.cap_m,
        }

    def prepare(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> Context:
        """The fog's geometry, shared by the image and the ``transmission`` target it adds:
        ``ctx.transmission`` t = exp(−β·ℓ) (H×W) and, for the airlight estimate, ``ctx.sky``
        with ``ctx.sky_linear`` (the linear image on the same grid). Without a ``depth``
        target the distance is the layout's coarse grid: t = exp(−β·ℓ) there, upsampled with its edges moved
        onto the frame's own (:func:`.guided.guided_upsample`: no coarse-cell staircase at the sky line)."""
        ctx = super().prepare(sample, params)
        scene = ctx.scene
        shape = scene["image"].shape[:2]
        if scene.get("depth") is None:
            dist, ctx.sky_linear = _coarse_distance(scene, params)
            k = shape[0] / dist.shape[0]
        else:  # measured distance: full resolution (scratch, no page faults)
            dist = depth_of_sample(scene, params["camera"], None, cap_m=params.get("cap_m", CAP_M),
                                   out=buffer("fog_dist", shape))
            ctx.sky_linear, k = None, 1.0
        beta = _extinction(params, dist.shape, k)
        if dist.shape == shape:
            t = atmosphere.transmission(dist, beta)
        else:  # t on the coarse grid, upsampled with its edges on the frame's (guided filter): a new array
            t = np.multiply(dist, -np.float32(1.0) * beta, dtype=np.float32)  # −β·ℓ
            t = guided_upsample(np.exp(t, out=t), scene["image"], shape)
        ctx.sky = dist >= SKY_DEPTH_M
        ctx.transmission = t
        old = scene.get("transmission")
        ctx.new_targets["transmission"] = t if old is None else (t * old.astype(np.float32)).astype(np.float32)
        return ctx

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        frame, meta, t = ctx.scene["image"], ctx.meta, ctx.transmission
        sigma = float(params.get("scatter_blur_px", 0.0))
        grey = params["airlight"] != "estimate" and sigma <= 0 and radiometry.is_srgb8(frame, meta)
        if grey and cv2_module() is None:  # one gather per value: faster than numpy's float passes
            return atmosphere.koschmieder_srgb8(frame, t, float(params["airlight"]))
        if grey and frame.ndim == 3 and frame.shape[2] == 3 and frame.flags.c_contiguous:
            return _koschmieder_srgb8_cv2(frame, t, float(params["airlight"]))
        lin = radiometry.decode_work(frame, meta, "fog_linear")
        if params["airlight"] == "estimate":
            sky_lin = lin if ctx.sky_linear is None else ctx.sky_linear
            airlight = atmosphere.estimate_airlight(sky_lin, ctx.sky, fallback=0.85)
        else:
            airlight = [float(params["airlight"])] * 3
        if sigma > 0:
            _forward_scatter(lin, t, sigma)
        work = radiometry.encode_is_fresh(frame, meta)  # encode returns a new array: reuse the float work
        out = atmosphere.koschmieder(lin, t, airlight, out=lin if work else None)
        return radiometry.encode(out, image, meta)


def _coarse_distance(scene: Mapping[str, Any], params: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Distance (m) on the layout's coarse grid (the flat-road pop-up prior, with ``cap_m``) and
    the linear image on that grid."""
    image, cam = scene["image"], params["camera"]
    h, w = image.shape[:2]
    k = grid_step((h, w), LAYOUT_GRID_PX)
    hs, ws = h // k, w // k
    small = radiometry.decode(np.ascontiguousarray(decimate(image, k, (0, hs), ws)[..., :3]), scene.get("meta"))
    sub = lambda m: None if m is None else np.ascontiguousarray(np.asarray(m)[k // 2 : hs * k : k, k // 2 : ws * k : k])  # noqa: E731
    boxes = scene.get("bboxes")
    boxes = None if boxes is None or not len(boxes) else np.asarray(boxes, dtype=np.float64)[:, :4] / k
    small_cam = {"focal_length_px": cam["focal_length_px"] / k, "horizon_row": cam["horizon_row"] / k,
                 "camera_height_m": cam["camera_height_m"]}
    lay = layout_from_small(small, small_cam, sky=sub(scene.get("sky_mask")), road_mask=sub(scene.get("road_mask")),
                            bboxes=boxes, cap_m=params.get("cap_m", CAP_M))
    return lay.depth, small


def _extinction(params: Mapping[str, Any], shape: tuple[int, int], k: float) -> Any:
    """β (1/m): a number, or (patchy fog) a field of ``shape`` on a grid ``k`` px apart."""
    beta: Any = params["beta_per_m"]
    if params.get("density_variation", 0.0) <= 0:
        return beta
    field = noise_field(shape, seed=params["seed"], scale_px=params["patch_size_px"] / k,
                        out=buffer(f"fog_density_{shape[0]}x{shape[1]}", shape))
    field *= np.float32(params["density_variation"])
    field += np.float32(1.0)
    np.maximum(field, np.float32(0.05), out=field)
    field *= np.float32(beta)
    return field


def _koschmieder_srgb8_cv2(frame: np.ndarray, t: np.ndarray, airlight: float) -> np.ndarray:
    """8-bit sRGB in, 8-bit sRGB out: J·t + A·(1 − t) in 16-bit linear light (the encode's own
    index, 1/65535 steps: ≤ 0.1 code from the float model), four SIMD passes over the frame."""
    cv2 = cv2_module()
    h, w = t.shape
    light = cv2.LUT(frame, _decode_table16(), dst=buffer("fog_light16", frame.shape, np.uint16))  # J
    t16 = cv2.multiply(t, float(ENCODE_STEPS), dst=buffer("fog_t16", (h, w), np.uint16), dtype=cv2.CV_16U)
    cv2.multiply(light, cv2.merge((t16,) * 3, dst=buffer("fog_t16x3", frame.shape, np.uint16)), dst=light,
                 scale=1.0 / ENCODE_STEPS)  # J·t
    air = cv2.addWeighted(t, -airlight * ENCODE_STEPS, t, 0.0, airlight * ENCODE_STEPS,
                          dst=buffer("fog_air16", (h, w), np.uint16), dtype=cv2.CV_16U)  # A·(1 − t)
    cv2.add(light, cv2.merge((air,) * 3, dst=buffer("fog_t16x3", frame.shape, np.uint16)), dst=light)
    return _srgb8_of_index(light.reshape(h, -1), cv2).reshape(frame.shape)


@functools.lru_cache(maxsize=1)
def _decode_table16() -> np.ndarray:
    """Linear light of each 8-bit sRGB code as the encode's 16-bit index round(x·65535)."""
    return np.rint(srgb_decode_table(256).astype(np.float64) * ENCODE_STEPS).astype(np.uint16)


#: The 8-bit encode's table steps (:func:`domaug.kit.linear_to_srgb8`: index = round(x·65535)).
ENCODE_STEPS = 65535


@functools.lru_cache(maxsize=1)
def _encode_table() -> np.ndarray:
    """sRGB code of linear i/65535: the table :func:`domaug.kit.linear_to_srgb8` looks up."""
    return linear_to_srgb8(np.arange(ENCODE_STEPS + 1, dtype=np.float32) / np.float32(ENCODE_STEPS))


def _srgb8_of_index(index: np.ndarray, cv2: Any) -> np.ndarray:
    """The sRGB codes of 16-bit table indices (``cv2.LUT`` takes 16-bit indices from OpenCV 5)."""
    table = _encode_table()
    try:
        return cv2.LUT(index, table)
    except cv2.error:
        return np.take(table, index)
def _forward_scatter(lin: np.ndarray, t: np.ndarray, sigma: float) -> None:
    """In place: blend ``lin`` toward its Gaussian blur (σ px) by 1 − t (forward scattering)."""
    from scipy.ndimage import gaussian_filter

    blurred = gaussian_filter(lin, sigma=(sigma, sigma, 0), mode="nearest", output=buffer("fog_blurred", lin.shape))
    blurred -= lin
    blurred *= np.subtract(1.0, t, out=buffer("fog_haze", t.shape))[..., None]
    lin += blurred
