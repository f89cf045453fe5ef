"""driving.LensDroplets: water drops (and dirt) on the lens or windshield in front of the camera."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.kit import Context, check_range, draw_seed, restore_dtype, sample_int, sample_uniform

from . import radiometry
from .atmosphere import blend_towards
from .base import DrivingTransform
from .fields import noise_field
from .scratch import buffer


def _box_blur_small(linear: np.ndarray, k: int) -> np.ndarray:
    """Every ``k``-th pixel, then two 3×3 box passes: a cheap, strongly blurred copy
    (the drop is out of focus, so the decimation's aliasing is blurred away)."""
    from scipy.ndimage import uniform_filter

    small = np.ascontiguousarray(linear[k // 2 :: k, k // 2 :: k])
    small = uniform_filter(small, size=(3, 3, 1), mode="nearest")
    return uniform_filter(small, size=(3, 3, 1), mode="nearest")


def _drop_box(d: Mapping[str, Any], h: int, w: int) -> tuple[int, int, int, int]:
    ry, rx = d["radius"] * d["aspect"], d["radius"]
    y0, y1 = int(max(0, np.floor(d["row"] - ry - 1))), int(min(h, np.ceil(d["row"] + ry + 1)))
    x0, x1 = int(max(0, np.floor(d["col"] - rx - 1))), int(min(w, np.ceil(d["col"] + rx + 1)))
    return y0, y1, x0, x1


def _one_drop(region: np.ndarray, y0: int, x0: int, d: Mapping[str, Any], small: np.ndarray, k: int, glint: float) -> None:
    """Composite one drop onto ``region`` (linear, the drop's bounding box at (y0, x0)) in place."""
    sh, sw = small.shape[:2]
    r, c, rad, aspect, mag = d["row"], d["col"], d["radius"], d["aspect"], d["mag"]
    ry, rx = rad * aspect, rad
    dy = (np.arange(y0, y0 + region.shape[0], dtype=np.float32) + 0.5 - r)[:, None]
    dx = (np.arange(x0, x0 + region.shape[1], dtype=np.float32) + 0.5 - c)[None, :]
    rho = np.sqrt((dy / ry) ** 2 + (dx / rx) ** 2)
    alpha = np.clip((1.0 - rho) / 0.2, 0.0, 1.0)  # soft edge
    if not alpha.any():
        return
    # refracted view: flipped and minified, looking through a region mag× wider
    sy = np.broadcast_to(np.clip((r - dy * mag * aspect) / k - 0.5, 0, sh - 1), alpha.shape)
    sx = np.broadcast_to(np.clip((c - dx * mag) / k - 0.5, 0, sw - 1), alpha.shape)
    iy, ix = sy.astype(np.intp), sx.astype(np.intp)
    fy, fx = (sy - iy)[..., None], (sx - ix)[..., None]
    iy1, ix1 = np.minimum(iy + 1, sh - 1), np.minimum(ix + 1, sw - 1)
    view = (small[iy, ix] * (1 - fy) * (1 - fx) + small[iy1, ix] * fy * (1 - fx)
            + small[iy, ix1] * (1 - fy) * fx + small[iy1, ix1] * fy * fx)
    rim = 1.0 - 0.45 * np.clip((rho - 0.7) / 0.3, 0.0, 1.0) ** 2  # darker rim (TIR)
    view *= rim[..., None]
    hl = np.exp(-(((dy / ry) + 0.45) ** 2 + ((dx / rx) + 0.3) ** 2) / 0.01)  # specular glint
    view += (glint * hl)[..., None]
    region += (view - region) * alpha[..., None]


def render_droplets(linear: np.ndarray, drops: list, blur_factor: int) -> np.ndarray:
    """Composite refracting drops onto ``linear`` (H×W×3, modified in place).

    Each drop is a tiny fisheye lens (Roser & Geiger, ICCVW 2009): it shows the scene
    around it *flipped* (inverted) and minified by ``mag``, out of focus (the camera
    focuses far away), with a soft edge, a darker rim (total internal reflection) and
    a small specular highlight. Drops: dicts with row, col, radius, aspect, mag.
    """
    h, w = linear.shape[:2]
    k = max(1, min(blur_factor, h, w))  # never decimate a tiny image away
    small = _box_blur_small(linear, k)
    glint = 0.6 * float(small.max()) if drops else 0.0
    for d in drops:
        y0, y1, x0, x1 = _drop_box(d, h, w)
        if y0 < y1 and x0 < x1:
            _one_drop(linear[y0:y1, x0:x1], y0, x0, d, small, k, glint)
    return linear


def droplets_on_encoded(image: np.ndarray, meta: Mapping[str, Any] | None, drops: list, blur_factor: int) -> np.ndarray:
    """:func:`render_droplets` for an encoded image, decoding only what drops touch.

    The blurred scene comes from every ``k``-th pixel; each drop's box is decoded,
    composited in linear light and encoded back — no full-frame pass but one copy.
    """
    h, w = image.shape[:2]
    k = max(1, min(blur_factor, h, w))  # never decimate a tiny image away
    small = _box_blur_small(radiometry.decode(np.ascontiguousarray(image[k // 2 :: k, k // 2 :: k]), meta), 1)
    glint = 0.6 * float(small.max()) if drops else 0.0
    out = image.copy()
    for d in drops:
        y0, y1, x0, x1 = _drop_box(d, h, w)
        if y0 >= y1 or x0 >= x1:
            continue
        region = out[y0:y1, x0:x1]
        lin = radiometry.decode(region, meta)
        _one_drop(lin, y0, x0, d, small, k, glint)
        enc = radiometry.encode(lin, region, meta)
        out[y0:y1, x0:x1] = enc if enc.dtype == out.dtype else restore_dtype(enc, out.dtype, meta)
    return out


class LensDroplets(DrivingTransform):
    """Drops and dirt on the lens: each drop shows a blurred, upside-down view of the scene.

    Model: an adherent drop is a small fisheye lens that refracts a wide, inverted view
    of the scene, out of focus for a camera focused far away, with a soft edge and dark
    rim (Roser & Geiger, ICCVW 2009; Porav et al., ICRA 2019); dirt is static soft
    occluding blobs (WoodScape soiling; Uricar et al. 2019).

    Parameters
    ----------
    drops : int or (low, high)
        Number of drops.
    radius_frac : float or (low, high)
        Drop radius as a fraction of the image's shorter side (5–60 px at 720 p ≈ 0.007–0.08).
    magnification : float or (low, high)
        How much wider the region seen through a drop is than the drop itself.
    dirt : float or (low, high)
        Peak opacity of dirt blobs (0 = clean lens).

    Targets: image (RGB; uint8/uint16 sRGB, float linear); others pass unchanged.
    """

    def __init__(
        self,
        drops: Any = (5, 25),
        radius_frac: Any = (0.01, 0.06),
        magnification: Any = (2.0, 5.0),
        dirt: Any = 0.0,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.drops = check_range(drops, "drops", low=0, high=2000, integer=True)
        self.radius_frac = check_range(radius_frac, "radius_frac", low=0.0, high=0.5, low_inclusive=False)
        self.magnification = check_range(magnification, "magnification", low=1.0, high=20.0)
        self.dirt = check_range(dirt, "dirt", low=0.0, high=1.0)

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        h, w = sample["image"].shape[:2]
        n = sample_int(rng, self.drops)
        short = min(h, w)
        drops = []
        for _ in range(n):
            drops.append({
                "row": float(rng.uniform(0, h)),
                "col": float(rng.uniform(0, w)),
                "radius": float(max(1.5, sample_uniform(rng, self.radius_frac) * short)),
                "aspect": float(rng.uniform(0.8, 1.25)),
                "mag": sample_uniform(rng, self.magnification),
            })
        dirt = sample_uniform(rng, self.dirt)
        return {"drops": drops, "dirt": dirt, "seed": draw_seed(rng) if dirt > 0 else 0}

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        frame, meta = ctx.scene["image"], ctx.meta
        h, w = frame.shape[:2]
        blur = max(2, min(h, w) // 120)
        if params["dirt"] <= 0:
            return droplets_on_encoded(frame, meta, params["drops"], blur)
        lin = radiometry.decode_work(frame, meta, "drops_linear")  # frame-sized: scratch, no page faults
        render_droplets(lin, params["drops"], blur)
        opacity = noise_field((h, w), seed=int(params["seed"]), scale_px=max(h, w) / 12.0, octaves=2,
                              out=buffer("drops_dirt", (h, w)))
        opacity -= 1.0  # clip((N − 1)·0.8, 0, 1)·dirt
        opacity *= 0.8
        np.clip(opacity, 0.0, 1.0, out=opacity)
        opacity *= np.float32(params["dirt"])
        mud = np.array([0.08, 0.06, 0.04], dtype=np.float32)
        blend_towards(lin, mud, opacity)  # lin += (mud − lin)·opacity, row blocks
        return radiometry.encode(lin, image, meta)
