"""agriculture.CloudShadow: shadows of drifting cumulus over the field."""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from domaug.kit import Context, as_hwc, check_number, check_range, draw_seed, fractal_noise, sample_uniform, spread

from . import _fast, bands, light
from ._base import AgriPixelTransform, map_linear, working_copy

#: Angular diameter of the sun, degrees: sets the penumbra width at the cloud's height.
SUN_DIAMETER_DEG = 0.53


def disc_hidden(u: np.ndarray) -> np.ndarray:
    """Share of a uniform disc hidden by a straight edge at ``u`` radii from its centre (1 at u ≤ −1, 0 at u ≥ 1).

    Hidden = circular segment area / disc area = (arccos(u) − u·√(1 − u²))/π for |u| < 1.
    """
    u = np.clip(u, np.float32(-1.0), np.float32(1.0))
    out = np.arccos(u)
    out -= u * np.sqrt(np.float32(1.0) - u * u)
    out *= np.float32(1.0 / math.pi)
    return out


class CloudShadow(AgriPixelTransform):
    """Cumulus cloud shadows drifting over the field (a class of its own in Agriculture-Vision).

    Model: fair-weather cumulus 0.2–2 km across (Wood & Field 2011 size distributions)
    seen by a drone frame of 50–500 m: the frame sees a shadow *edge*. The cloud outline is
    a level set of fractal Perlin noise (``domaug.kit.fractal_noise``) at the cloud size in
    pixels (size_m / GSD), placed so ``coverage`` of this frame is shadowed; the penumbra
    is the cloud base height × the sun's angular diameter (0.53°: width ≈ h·0.0093, 9 m
    at 1 km), with the hidden share of the sun's disc across it; in the umbra only skylight
    (∝ λ⁻², so bluer) remains: x·(1 − s·(1 − f_sky(λ))) with s the shadow density, in
    linear units (8-bit photos sRGB-decoded, raw DN less ``meta['black_level']``). For a
    sequence, keep ``seed`` and move ``offset_px`` by wind·Δt/GSD: the field is continuous
    across windows.

    Parameters
    ----------
    coverage : float or (low, high)
        Fraction of the frame in shadow (measured on this frame's realisation of the field).
    density : float or (low, high)
        Fraction of the direct sunlight the cloud removes (0.5–0.9 for cumulus).
    cloud_size_m : float or (low, high)
        Typical cloud (shadow) size on the ground, metres (cumulus: 200–2000).
    cloud_base_m : float or (low, high)
        Cloud base height, metres (cumulus: 500–2000); sets the penumbra width h·tan 0.53°.
    gsd_m : float, optional
        Ground sample distance; default meta ``gsd_m``/geotransform, else 0.02 m.
    emit_mask : bool
        Also return ``shadow_mask`` (uint8, 1 where the shadow removes > half its density).
    p : float
        Probability of applying.

    Targets: image (+ ``shadow_mask`` output); other targets pass through.
    """

    def __init__(
        self,
        coverage: float | tuple[float, float] = (0.2, 0.6),
        density: float | tuple[float, float] = (0.5, 0.85),
        cloud_size_m: float | tuple[float, float] = (200.0, 2000.0),
        cloud_base_m: float | tuple[float, float] = (500.0, 2000.0),
        gsd_m: float | None = None,
        emit_mask: bool = False,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.coverage = check_range(coverage, "coverage", low=0.0, high=1.0)
        self.density = check_range(density, "density", low=0.0, high=1.0)
        self.cloud_size_m = check_range(cloud_size_m, "cloud_size_m", low=0.0, low_inclusive=False)
        self.cloud_base_m = check_range(cloud_base_m, "cloud_base_m", low=0.0)
        self.gsd_m = None if gsd_m is None else check_number(gsd_m, "gsd_m", low=0.0, low_inclusive=False)
        self.emit_mask = bool(emit_mask)

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        gsd = self.gsd_m if self.gsd_m is not None else bands.gsd_of(sample.get("meta"))
        size_px = sample_uniform(rng, self.cloud_size_m) / gsd
        base_m = sample_uniform(rng, self.cloud_base_m)
        penumbra_px = base_m * math.tan(math.radians(SUN_DIAMETER_DEG)) / gsd
        params = {
            "seed": draw_seed(rng),
            "offset_px": [int(rng.integers(-100000, 100000)), int(rng.integers(-100000, 100000))],
            "scale_px": float(min(max(size_px, 4.0), 1e6)),
            "cloud_base_m": base_m,
            "penumbra_px": float(max(penumbra_px, 0.5)),
            "coverage": sample_uniform(rng, self.coverage),
            "density": sample_uniform(rng, self.density),
            "emit_mask": self.emit_mask,
        }
        params["threshold"] = self._threshold(as_hwc(sample["image"]).shape[:2], params,
                                              bands.frame_footprint(sample))
        return params

    @staticmethod
    def _threshold(shape: tuple[int, int], params: Mapping[str, Any], footprint: np.ndarray | None = None) -> float:
        """Noise level above which this frame is in shadow: the (1 − coverage) quantile.

        Estimated on a coarse (≤ ~64² px) evaluation of the same field, so ``coverage``
        is the shadowed fraction of *this* frame (of its footprint when it has one, so the
        edge falls on valid pixels); recorded in params, so windows of a
        moving sequence that reuse the params agree exactly.
        """
        cov = float(params["coverage"])
        if cov <= 0:
            return 1e9  # above any noise value: no shadow
        if cov >= 1:
            return -1e9
        step = max(1, min(shape) // 64)
        coarse = fractal_noise(
            (-(-shape[0] // step), -(-shape[1] // step)), seed=int(params["seed"]),
            scale_px=params["scale_px"] / step, octaves=4,
            offset=(params["offset_px"][0] // step, params["offset_px"][1] // step),
        )
        if footprint is not None:
            inside = footprint[::step, ::step][: coarse.shape[0], : coarse.shape[1]]
            if inside.any():
                coarse = coarse[inside]
        return float(np.quantile(coarse, 1.0 - cov))

    def shadow(self, shape: tuple[int, int], params: Mapping[str, Any]) -> np.ndarray:
        """Shadow strength s ∈ [0, density] per pixel (float32 H×W).

        The cloud outline is the level set noise = threshold; each pixel's signed distance
        to it is (noise − threshold)/|∇noise| (first order, local, so windows agree), and the
        share of the sun's disc hidden at that distance is the circular-segment area of a
        disc of diameter ``penumbra_px`` cut by a straight edge.
        """
        r0, c0 = params["offset_px"]
        noise = fractal_noise((shape[0] + 2, shape[1] + 2), seed=int(params["seed"]), scale_px=params["scale_px"],
                              octaves=4, offset=(r0 - 1, c0 - 1))
        gr = noise[2:, 1:-1] - noise[:-2, 1:-1]
        gc = noise[1:-1, 2:] - noise[1:-1, :-2]
        grad = np.hypot(gr, gc, out=gr)
        grad *= np.float32(0.5)
        np.maximum(grad, np.float32(1e-6), out=grad)
        u = np.subtract(noise[1:-1, 1:-1], np.float32(params["threshold"]))
        u /= grad  # signed distance to the cloud outline, px (> 0 under the cloud)
        u *= np.float32(-2.0 / max(float(params["penumbra_px"]), 1e-3))  # in sun radii: −1 umbra … +1 full sun
        return np.multiply(disc_hidden(u), np.float32(params["density"]), dtype=np.float32)

    def prepare(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> Context:
        ctx = super().prepare(sample, params)
        ctx.shadow = self.shadow(as_hwc(ctx["image"]).shape[:2], params)
        if params.get("emit_mask"):
            m = (ctx.shadow > 0.5 * float(params["density"])).astype(np.uint8)
            if ctx.footprint is not None:
                m[~ctx.footprint] = 0
            ctx.new_targets["shadow_mask"] = m
        return ctx

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        s = ctx.shadow
        lost = light.skylight_fraction(ctx.wavelengths) - np.float32(1.0)

        def darken(lin, a, b):
            gain = spread(s[a:b], lin.shape[-1], np.empty(lin.shape, s.dtype))  # 1 − s·(1 − f_sky(λ)) per band
            _fast.scale_bands(gain, lost)
            gain += np.float32(1.0)
            lin *= gain
            return lin

        return map_linear(working_copy(image, ctx), ctx, darken)
