"""driving.LensDroplets: defocused water drops (and dirt) on the windscreen in front of the camera."""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from domaug.kit import (Context, check_number, check_range, cv2_module, draw_seed, restore_dtype, sample_log_uniform,
                        sample_uniform)

from . import glare_codes, radiometry
from .atmosphere import blend_towards
from .base import DrivingTransform
from .camera import camera_from
from .droplet_optics import circle_of_confusion_px, defocus, drop_sources
from .fields import noise_field
from .plane_ops import upsample
from .scratch import buffer

#: Short side (px) of the blurred scene that drops refract (their view is far blurrier).
ENV_GRID_PX = 96
#: Drops drawn at most per call.
MAX_DROPS = 400


def scene_environment(linear: np.ndarray, k: int | None = None) -> tuple[np.ndarray, int]:
    """(env, k): every k-th pixel of a linear H×W×3 frame (default: short side ≈ 96), box-blurred twice."""
    from scipy.ndimage import uniform_filter

    h, w = linear.shape[:2]
    k = max(1, min(h, w) // ENV_GRID_PX) if k is None else k
    env = np.ascontiguousarray(linear[k // 2 :: k, k // 2 :: k], dtype=np.float32)
    env = uniform_filter(env, size=(3, 3, 1), mode="nearest")
    return uniform_filter(env, size=(3, 3, 1), mode="nearest"), k


def _to_full(a: np.ndarray, step: int, origin: float, y0: int, shape: tuple[int, int], name: str) -> np.ndarray:
    """Full-res rows y0:y0+shape[0] of a coarse layer (h×w×3 float32 or uint16, cell centres at
    origin + (i + ½)·step), bilinear (``cv2.warpAffine`` into scratch ``name``; else
    :func:`.plane_ops.upsample` and a crop), of ``a``'s dtype."""
    rows, cols = shape
    cv2 = cv2_module()
    if cv2 is not None and max(a.shape[:2]) < 32768 and rows * cols:
        s = 1.0 / step  # full (x, y) ← cell ((x + ½ − origin)/step − ½, (y + y0 + ½ − origin)/step − ½)
        m = np.array([[s, 0.0, (0.5 - origin) * s - 0.5], [0.0, s, (y0 + 0.5 - origin) * s - 0.5]])
        return cv2.warpAffine(a, m, (cols, rows), dst=buffer(name, (rows, cols, 3), a.dtype),
                              flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
    full = (a.shape[0] * step, a.shape[1] * step)
    up = np.stack([upsample(np.ascontiguousarray(a[..., c], dtype=np.float32), full) for c in range(a.shape[2])], -1)
    off = int(round(-origin))
    up = up[y0 + off : y0 + off + rows, off : off + cols]
    return np.ascontiguousarray(np.rint(up).astype(a.dtype) if a.dtype == np.uint16 else up)


def drop_layers(drops: list, optics: Mapping[str, float], env: np.ndarray, env_scale: float,
                shape: tuple[int, int], codes: bool = False) -> tuple[int, int, np.ndarray, np.ndarray] | None:
    """(y0, y1, 1 − α, W) of every drop for full-res rows y0:y1 (both rows×W×3) — the pixels
    there become ``(1 − α)·E + W`` — or None when no drop touches the frame. ``codes``: both as
    uint16, 1 − α in 1/65535 and W in the linear codes of :mod:`.glare_codes`.

    Computed on a grid of step ≈ c/4 (the blur's ramp spans ≥ 4 cells), margined by the blur
    radius so drops beyond the edge still spill in, then interpolated bilinearly.
    """
    h, w = shape
    coc = max(0.5, float(optics["coc_px"]))
    step = max(1, int(round(coc / 4.0)))
    margin = int(math.ceil(coc / 2.0 / step)) + 1
    grid = (-(-h // step) + 2 * margin, -(-w // step) + 2 * margin)
    origin = -margin * step
    mask, light = drop_sources(drops, optics, env, env_scale, step, grid, origin=origin)
    alpha, light = defocus(mask, light, coc / step)
    rows = np.nonzero(alpha.max(axis=1) > 1e-6)[0]
    if rows.size == 0:
        return None
    y0 = int(max(0, origin + (rows[0] - 0.5) * step))
    y1 = int(min(h, math.ceil(origin + (rows[-1] + 1.5) * step)))
    if y0 >= y1:
        return None
    if codes:  # rounded by the truncating casts (α ≥ 0 and W ≥ 0 up to float error)
        kept = np.float32(65535.5) - np.clip(alpha, 0.0, 1.0) * np.float32(65535.0)
        keep = np.repeat(kept.astype(np.uint16)[..., None], 3, axis=2)
        light *= np.float32(glare_codes.FULL)
        light += np.float32(0.5)
        np.clip(light, 0.0, glare_codes.TOP, out=light)
        light = light.astype(np.uint16)
    else:
        keep = np.empty(alpha.shape + (3,), np.float32)
        np.subtract(np.float32(1.0), alpha[..., None], out=keep)
    return (y0, y1, _to_full(keep, step, origin, y0, (y1 - y0, w), "drops_keep"),
            _to_full(light, step, origin, y0, (y1 - y0, w), "drops_light"))


def _blend(lin: np.ndarray, keep: np.ndarray, light: np.ndarray) -> None:
    """In place: lin = lin·keep + light (H×W×3 float32)."""
    cv2 = cv2_module()
    if cv2 is not None and lin.flags.c_contiguous and lin.dtype == np.float32 and lin.shape[1] < 2**20:
        cv2.multiply(lin, keep, dst=lin)
        cv2.add(lin, light, dst=lin)
        return
    lin *= keep
    lin += light


def render_drops(linear: np.ndarray, drops: list, optics: Mapping[str, float]) -> np.ndarray:
    """In place on a linear H×W×3 frame: ``(1 − α)·E + W`` for all drops (see :mod:`.droplet_optics`)."""
    h, w = linear.shape[:2]
    if not drops or h * w == 0:
        return linear
    env, k = scene_environment(linear)
    layers = drop_layers(drops, optics, env, k, (h, w))
    if layers is not None:
        y0, y1, keep, light = layers
        band = linear[y0:y1]
        if band.flags.c_contiguous:
            _blend(band, keep, light)
        else:
            band *= keep
            band += light
    return linear


def render_droplets(linear: np.ndarray, drops: list, blur_factor: int) -> np.ndarray:
    """:func:`render_drops` for drops given as row, col, radius (px), aspect (the form ``driving.Rain``
    draws): contact angle 45° and a blur circle of one drop radius (≥ 2·``blur_factor``) unless
    the dicts say otherwise."""
    if not drops:
        return linear
    converted = [{"row": d["row"], "col": d["col"], "radius_px": d.get("radius_px", d.get("radius", 2.0)),
                  "aspect": d.get("aspect", 1.0), "contact_angle_deg": d.get("contact_angle_deg", 45.0)}
                 for d in drops]
    coc = float(np.median([d.get("coc_px", max(2.0 * blur_factor, c["radius_px"])) for d, c in zip(drops, converted)]))
    return render_drops(linear, converted, {"focal_length_px": 0.9 * linear.shape[1], "coc_px": coc})


def droplets_on_encoded(image: np.ndarray, meta: Mapping[str, Any] | None, drops: list,
                        optics: Mapping[str, float]) -> np.ndarray:
    """:func:`render_drops` for an encoded image, decoding only the rows the drops touch."""
    h, w = image.shape[:2]
    out = image.copy()
    if not drops or h * w == 0:
        return out
    kd = max(1, min(h, w) // ENV_GRID_PX)
    env, _ = scene_environment(radiometry.decode(np.ascontiguousarray(image[kd // 2 :: kd, kd // 2 :: kd]), meta), 1)
    fast = radiometry.is_srgb8(image, meta) and image.ndim == 3 and image.shape[2] == 3
    layers = drop_layers(drops, optics, env, kd, (h, w), codes=fast)
    if layers is None:
        return out
    y0, y1, keep, light = layers
    region = out[y0:y1]
    if fast:  # 8-bit sRGB: blended in 16-bit linear codes (see :mod:`.glare_codes`)
        glare_codes.blend8(region, keep, light)
        return out
    lin = radiometry.decode(region, meta, out=buffer("drops_band", region.shape))
    _blend(lin, keep, light)
    enc = radiometry.encode(lin, region, meta)
    out[y0:y1] = enc if enc.dtype == out.dtype else restore_dtype(enc, out.dtype, meta)
    return out


class LensDroplets(DrivingTransform):
    """Raindrops (and dirt) on the windscreen in front of a camera focused far away.

    Model: each drop is a plano-convex water lens that shows a wide, demagnified, inverted
    view of the scene (Roser & Geiger, ICCVW 2009; Halimeh & Roser, IV 2009; You et al.,
    TPAMI 2016), seen through the thin-lens blur circle c = f·A·|S − d|/(d·(S − F)) of the
    glass at distance d: a soft blob with no outline, a convex mix of the background and the
    refracted light (energy kept). Dirt: static soft occluding blobs (Uricar et al. 2019).

    Parameters
    ----------
    drops_per_cm2 : float or (low, high)
        Drop density on the glass (the camera sees (W/f·d)×(H/f·d) of it: ≈ 70 cm² at 10 cm).
    drop_radius_mm : float or (low, high)
        Radius of a drop's footprint on the glass (log-uniform per drop; drizzle 0.3, rain 1–3).
    drop_distance_m : float or (low, high)
        Distance from the lens to the glass (windscreen 0.05–0.2 m; a lens cover ~0.01 m).
    contact_angle_deg : float or (low, high)
        Contact angle of water on the glass (clean glass 20–50°, hydrophobic coating ~90–110°).
    f_number, focal_length_mm : float or (low, high)
        The lens's aperture (dash-cams f/1.6–2.8, 3–6 mm): aperture diameter = F/N.
    focus_distance_m : float or (low, high)
        Where the camera is focused (dash-cams: fixed focus a few metres to infinity).
    dirt : float or (low, high)
        Peak opacity of dirt blobs (0 = clean glass).
    focal_length_px : float or None
        Focal length in pixels (None: ``meta`` or 0.9·W).

    Targets: image (RGB; uint8/uint16 sRGB, float linear); others pass unchanged.
    """

    def __init__(
        self,
        drops_per_cm2: Any = (0.2, 1.0),
        drop_radius_mm: Any = (0.5, 3.0),
        drop_distance_m: Any = (0.05, 0.2),
        contact_angle_deg: Any = (25.0, 60.0),
        f_number: Any = (1.6, 2.8),
        focal_length_mm: Any = 4.0,
        focus_distance_m: Any = (5.0, 50.0),
        dirt: Any = 0.0,
        focal_length_px: float | None = None,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.drops_per_cm2 = check_range(drops_per_cm2, "drops_per_cm2", low=0.0, high=100.0)
        self.drop_radius_mm = check_range(drop_radius_mm, "drop_radius_mm", low=0.0, high=20.0, low_inclusive=False)
        self.drop_distance_m = check_range(drop_distance_m, "drop_distance_m", low=0.0, high=10.0, low_inclusive=False)
        self.contact_angle_deg = check_range(contact_angle_deg, "contact_angle_deg", low=1.0, high=150.0)
        self.f_number = check_range(f_number, "f_number", low=0.5, high=64.0)
        self.focal_length_mm = check_range(focal_length_mm, "focal_length_mm", low=0.5, high=1000.0)
        self.focus_distance_m = check_range(focus_distance_m, "focus_distance_m", low=0.0, high=1e6,
                                            low_inclusive=False)
        self.dirt = check_range(dirt, "dirt", low=0.0, high=1.0)
        self.focal_length_px = (None if focal_length_px is None
                                else check_number(focal_length_px, "focal_length_px", low=1.0))

    def _drops(self, rng: np.random.Generator, shape: tuple[int, int], f: float, d: float) -> list:
        h, w = shape
        area_cm2 = (w / f * d * 100.0) * (h / f * d * 100.0)
        n = min(MAX_DROPS, int(rng.poisson(sample_uniform(rng, self.drops_per_cm2) * area_cm2)))
        drops = []
        for _ in range(n):
            radius_mm = sample_log_uniform(rng, self.drop_radius_mm)
            drops.append({
                "row": float(rng.uniform(0, h)),
                "col": float(rng.uniform(0, w)),
                "radius_px": float(max(0.5, f * radius_mm / 1000.0 / d)),
                "aspect": float(rng.uniform(0.8, 1.3)),  # vertical / horizontal semi-axis
                "contact_angle_deg": sample_uniform(rng, self.contact_angle_deg),
            })
        return drops

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        h, w = sample["image"].shape[:2]
        f = camera_from((h, w), sample.get("meta"), focal_length_px=self.focal_length_px)["focal_length_px"]
        d = sample_uniform(rng, self.drop_distance_m)
        n_f, f_mm = sample_uniform(rng, self.f_number), sample_uniform(rng, self.focal_length_mm)
        focus = sample_uniform(rng, self.focus_distance_m)
        dirt = sample_uniform(rng, self.dirt)
        return {
            "focal_length_px": float(f), "drop_distance_m": d, "f_number": n_f, "focal_length_mm": f_mm,
            "focus_distance_m": focus, "coc_px": circle_of_confusion_px(f, f_mm, n_f, focus, d),
            "drops": self._drops(rng, (h, w), f, d),
            "dirt": dirt, "seed": draw_seed(rng) if dirt > 0 else 0,
        }

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        frame, meta = ctx.scene["image"], ctx.meta
        h, w = frame.shape[:2]
        optics = {"focal_length_px": params["focal_length_px"], "coc_px": max(0.5, params["coc_px"])}
        if params["dirt"] <= 0:
            return droplets_on_encoded(frame, meta, params["drops"], optics)
        lin = radiometry.decode_work(frame, meta, "drops_linear")  # frame-sized: scratch, no page faults
        render_drops(lin, params["drops"], optics)
        opacity = noise_field((h, w), seed=int(params["seed"]), scale_px=max(h, w) / 12.0, octaves=2,
                              out=buffer("drops_dirt", (h, w)))
        opacity -= 1.0  # clip((N − 1)·0.8, 0, 1)·dirt
        opacity *= 0.8
        np.clip(opacity, 0.0, 1.0, out=opacity)
        opacity *= np.float32(params["dirt"])
        mud = np.array([0.08, 0.06, 0.04], dtype=np.float32)
        blend_towards(lin, mud, opacity)  # lin += (mud − lin)·opacity, row blocks
        return radiometry.encode(lin, image, meta)
