"""driving.Snow: falling snow under an overcast sky — flakes in depth, snow haze, lying snow."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.kit import (Context, check_number, check_range, cv2_module, draw_seed, sample_log_uniform,
                        sample_uniform)

from . import atmosphere, overcast, radiometry
from .base import DrivingTransform
from .depth import camera_of, check_camera_args
from .guided import guided_upsample
from .layout import EGO, SKY, VERTICAL
from .overcast import luma
from .scene import clip_max, coarse_scene, scale_add
from .plane_ops import upsample
from .plane_ops import multiply
from .scratch import buffer
from .snow_cover import lying_snow
from .snowfall import flake_opacity
from .wet_road import half_shape

LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
#: Albedo of settled snow (fresh 0.8–0.9, older 0.6–0.8; Warren 1982).
SNOW_ALBEDO = 0.85
#: Amplitude of the snow's albedo texture (relative; fine isotropic variation).
SNOW_TEXTURE = 0.06
#: Wet asphalt keeps this fraction of its dry radiance (Lekner & Dorf 1988: 0.5–0.8);
#: wheel tracks, with standing slush water, darker still.
WET_ROAD, WET_TRACK = 0.75, 0.6
#: Auto-exposure never darkens the frame by more than this factor.
MIN_EXPOSURE_GAIN = 0.4


class Snow(DrivingTransform):
    """Snow: falling flakes sized and blurred by depth, snow haze, and snow lying where it settles.

    The frame is first relit by an overcast sky (falling snow means no direct sun:
    :func:`.overcast.to_overcast`). Then, in linear light:

    - **lying snow** (:mod:`.snow_cover`): verges and the untracked road first, lane markings
      covered progressively with ``snow_cover``, two darker wet wheel tracks in the ego lane
      and each neighbour (following the painted lanes; ragged edges), caps
      on the tops of vertical objects; never on a vehicle's body. Its radiance is that of a
      horizontal Lambertian surface of albedo 0.85 under the CIE overcast sky,
      ρ·(7/9)·L_zenith = ρ·(7/3)·L_horizon, with a faint isotropic albedo texture (the same
      road-surface noise as the patches); uncovered road is wet (darker);
    - **snow haze**: Koschmieder's law at the layout's distances, β = ln 20 / V (the vertical
      background above the horizon averaged over 5 % of the width: :func:`soften_background`); the airlight
      of flakes scattering light from all around (≈ isotropically) is the mean radiance of
      the sphere: the overcast dome above (⅔·L_z) and the snow below (ρ·(7/9)·L_z), halved —
      about the snow's own radiance, so the sky in snowfall becomes a uniform pale grey;
    - **flakes** (:mod:`.snowfall`): flakes at random 3-D points, their count from the
      visibility (β = 2·N·⟨A⟩, Rasmussen et al. 1999), size f·D/Z, streaked by fall × exposure,
      blurred by the thin-lens circle of confusion, shining with the sky's radiance;
    - **auto-exposure**: the camera meters the frame (average metering), so bright snow
      lowers the exposure and the mean luminance stays about the overcast frame's.

    Parameters
    ----------
    visibility_m : float or (low, high)
        Visibility in falling snow (m, log-uniform): NWS light snow > 1 km, moderate 0.4–1 km,
        heavy < 0.4 km. Sets the flake count and the haze.
    flake_size_mm : float or (low, high)
        Mean flake diameter (mm): single crystals 1–3, aggregates 2–10.
    exposure_ms : float or (low, high)
        Exposure time (ms; overcast daylight dash-cams 4–20): flake streaks grow with it.
    wind_mps, speed_kmh : float or (low, high)
        Wind across the view (m/s) and ego speed (km/h, radial flow of the flakes).
    snow_cover : float or (low, high)
        How much snow has settled, 0–1: 0 none, 0.3 white verges and patches between the
        wheel tracks, 0.7 lane markings gone but dark wheel tracks, 1 all white.
    max_flakes : int
        Cap on drawn flakes (more physical flakes share their opacity among these).
    focal_length_px, horizon_row, camera_height_m : float or None
        Camera (None: ``meta`` or 0.9·W, 0.58·H, 1.3 m;
        ``horizon_row="estimate"``: from the lane vanishing point).

    Targets: image (RGB; uint8/uint16 sRGB, float linear); others pass unchanged.
    """

    def __init__(
        self,
        visibility_m: Any = (250.0, 2000.0),
        flake_size_mm: Any = (2.0, 6.0),
        exposure_ms: Any = (4.0, 20.0),
        wind_mps: Any = (-2.0, 2.0),
        speed_kmh: Any = 0.0,
        snow_cover: Any = (0.2, 0.9),
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
        self.snow_cover = check_range(snow_cover, "snow_cover", low=0.0, high=1.0)
        self.max_flakes = check_number(max_flakes, "max_flakes", low=0, high=1_000_000, integer=True)
        self.camera_args = check_camera_args(focal_length_px, horizon_row, camera_height_m)

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        return {
            "visibility_m": sample_log_uniform(rng, self.visibility_m),
            "flake_size_mm": sample_uniform(rng, self.flake_size_mm),
            "exposure_ms": sample_uniform(rng, self.exposure_ms),
            "wind_mps": sample_uniform(rng, self.wind_mps),
            "speed_kmh": sample_uniform(rng, self.speed_kmh),
            "snow_cover": sample_uniform(rng, self.snow_cover),
            "max_flakes": self.max_flakes,
            "camera": camera_of(sample, self.camera_args),
            "seed": draw_seed(rng),
        }

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        planes = radiometry.decode_planes(ctx.scene["image"], ctx.meta)
        cam = params["camera"]
        coarse = coarse_scene(ctx.scene, cam)
        # falling snow: no direct sun. The overcast factors (half resolution) are folded into
        # the per-plane gain M below rather than applied in a pass of their own
        factors, _ = overcast.overcast_factors(planes, coarse)
        if factors is not None and coarse["full"]:
            overcast.apply_factors(planes, factors)
            factors = None
        small = coarse_samples(planes, int(coarse["k"]), coarse["labels"].shape)
        if factors is not None:  # the overcast frame on the coarse grid
            small *= np.stack([_resized(f, small.shape[:2]) for f in factors], axis=-1)
        fields = _coarse_fields(planes, coarse, params, ctx.scene.get("bboxes"), small=small)
        ms, ws = _full_fields(planes[0].shape, coarse, fields, factors, frame=ctx.scene["image"])
        for p, m, acc in zip(planes, ms, ws):
            _accumulate_product(p, m, acc)  # W_c += p_c·M_c: overcast light, lying snow and haze in one pass
        phi = _flakes(planes[0].shape, params, coarse)
        if phi is not None:  # flakes shine with the airlight A: (1 − φ)·I + φ·A
            clear = np.subtract(np.float32(1.0), phi, out=buffer("snow_clear", phi.shape))
            for c, acc in enumerate(ws):
                multiply(acc, clear)
                scale_add(phi, float(fields["air"][c]), acc)
        planes = ws
        return radiometry.encode_planes(planes, image, ctx.meta)


def coarse_samples(planes: list[np.ndarray], k: int, shape: tuple[int, int]) -> np.ndarray:
    """The planes at the coarse grid's pixels (hs×ws×3; pixel (i, j) = full (k·i + k//2, k·j + k//2))."""
    hs, ws = shape
    return np.stack([p[k // 2 : hs * k : k, k // 2 : ws * k : k] for p in planes], axis=-1)


def horizon_sky(small: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Linear RGB (3,) of the overcast sky near the horizon: median of the sky cells in the
    lowest quarter of the sky's rows; without sky (< 30 cells), the 95th percentile of the
    frame's luminance as a grey."""
    sky = labels == SKY
    if sky.sum() < 30:
        y = small.reshape(-1, 3) @ LUMA
        return np.full(3, float(np.percentile(y, 95)), dtype=np.float32)
    low = sky & (np.arange(sky.shape[0])[:, None] >= _row_quantile(sky.sum(axis=1), 0.75))
    if low.sum() < 15:
        low = sky
    return _median_rgb(small, low)


def _row_quantile(counts: np.ndarray, q: float) -> float:
    """``np.quantile`` (linear) of the row indices of a mask's cells, from its cell ``counts``
    per row (rows in order: no list of the cells)."""
    cum = np.cumsum(counts)
    pos = q * (int(cum[-1]) - 1)
    lo = int(np.floor(pos))
    r0, r1 = np.searchsorted(cum, [lo, min(lo + 1, int(cum[-1]) - 1)], side="right")
    return float(r0 + (pos - lo) * (r1 - r0))


def _median_rgb(small: np.ndarray, mask: np.ndarray, step: int = 1) -> np.ndarray:
    """Per-channel median (float32 (3,)) of every ``step``-th cell of ``small`` (h×w×3) under
    ``mask`` (cells gathered by index and channel: a boolean gather of the h×w×3 array and a
    median along its strided axis 0 are ~10× slower)."""
    cells = np.flatnonzero(mask)[::step]
    return np.array([np.median(small[..., c].reshape(-1).take(cells)) for c in range(3)], dtype=np.float32)


def _coarse_fields(planes: list[np.ndarray], coarse: Mapping[str, Any], params: Mapping[str, Any],
                   boxes: Any, small: np.ndarray | None = None) -> dict:
    """Everything of the snow that is smooth, on the coarse grid: ``keep`` ((1 − a)·wet, the
    share of the scene's own radiance left by lying snow), ``snow`` ((3,) radiance of lying
    snow), ``cover`` (a·(1 + texture)), ``air`` ((3,) airlight) and ``gain`` (auto-exposure).
    ``small``: the overcast frame on the grid (default: sampled from ``planes``)."""
    labels, k = coarse["labels"], int(coarse["k"])
    small = coarse_samples(planes, k, labels.shape) if small is None else small
    zenith = np.float32(3.0) * horizon_sky(small, labels)  # CIE overcast: L_z = 3·L(horizon)
    snow = np.float32(SNOW_ALBEDO * 7.0 / 9.0) * zenith
    air = np.float32(0.5) * (np.float32(2.0 / 3.0) * zenith + snow)
    cover = float(params["snow_cover"])
    lying = lying_snow(coarse, params["camera"], planes[0].shape[1], cover, int(params["seed"]) ^ 0x5A0, boxes,
                        small=small)
    a = lying.amount
    wet = np.float32(min(1.0, 0.4 + cover))
    darken = np.where(lying.ground, 1.0 - wet * ((1.0 - WET_ROAD) + (WET_ROAD - WET_TRACK) * lying.tracks), 1.0)
    keep = ((1.0 - a) * darken).astype(np.float32)
    tex = np.clip(1.0 + np.float32(SNOW_TEXTURE) * lying.texture, 0.5, 1.5)
    lit = (a * tex).astype(np.float32)
    # auto-exposure: the frame's mean luminance with snow (haze and lying snow) back to the
    # overcast frame's (average metering), never brighter
    t = atmosphere.transmission(coarse["dist"], atmosphere.beta_from_visibility(params["visibility_m"]))
    if coarse["full"]:
        t_c = t[k // 2 :: k, k // 2 :: k][: labels.shape[0], : labels.shape[1]]
    else:
        t = t_c = soften_background(t, labels, float(params["camera"]["horizon_row"]) / k)
        _sky_gaps_are_sky(t, coarse, float(params["camera"]["horizon_row"]) / k)
    y = luma(small)
    y_snow = ((y * keep + float(snow @ LUMA) * lit) * t_c + float(air @ LUMA) * (1.0 - t_c)).mean()
    gain = float(np.clip(y.mean() / max(float(y_snow), 1e-6), MIN_EXPOSURE_GAIN, 1.0))
    return {"keep": keep, "snow": snow * np.float32(gain), "cover": lit, "air": air * np.float32(gain),
            "gain": gain, "t": t}


def soften_background(t: np.ndarray, labels: np.ndarray, horizon_cell: float) -> np.ndarray:
    """Transmission (coarse) with the vertical background above the horizon averaged along
    rows over 5 % of the width (vertical cells only). The pop-up layout gives each column
    the distance of its own contact row, so a tree line behind cars changes distance in
    column blocks; at low visibility those blocks show as bands of haze. Objects standing
    below the horizon (cars at ≤ 30 m) keep their own transmission."""
    rows = int(np.clip(np.floor(horizon_cell) - 2, 0, t.shape[0]))
    if rows == 0:
        return t
    vert = (labels[:rows] == VERTICAL).astype(np.float32)
    n = max(3, int(0.05 * t.shape[1])) | 1
    num, den = _row_mean(t[:rows] * vert, n), _row_mean(vert, n)
    # full strength from 8 cells above the horizon up, fading to none 2 cells above it
    ramp = np.clip((horizon_cell - 2.0 - np.arange(rows, dtype=np.float32)) / 6.0, 0.0, 1.0)[:, None] * vert
    out = t.copy()
    out[:rows] += ramp * (num / np.maximum(den, 1e-6) - t[:rows])
    return out


def _sky_gaps_are_sky(t: np.ndarray, coarse: Mapping[str, Any], horizon_cell: float) -> None:
    """In place: the clear sky seen through a canopy above the horizon (cells outside the
    sky mask with the sky's colour, :func:`.overcast.sky_gaps`) gets the sky's transmission,
    0: the airlight there, as in the sky around it (no patches of the old sky in the haze)."""
    labels, small = coarse["labels"], coarse["small"]
    rows = int(np.clip(np.floor(horizon_cell), 0, t.shape[0]))
    sky = labels == SKY
    if rows == 0 or sky.sum() < 30:
        return
    cells = np.flatnonzero(~sky[:rows])  # the sky itself has t = 0 already
    part = small[:rows].reshape(-1, 3).take(cells, axis=0)
    colour = _median_rgb(small, sky, 4)
    y = luma(part)
    like = overcast.sky_gaps(part[:, 0], part[:, 2], y, colour)
    if like is not None:
        r, c = np.divmod(cells, t.shape[1])
        t[r, c] *= np.float32(1.0) - like


def _row_mean(a: np.ndarray, n: int) -> np.ndarray:
    """Mean over ``n`` cells along each row (zero beyond the edges)."""
    cv2 = cv2_module()
    if cv2 is not None and a.ndim == 2 and a.size and a.shape[1] < 32768:  # one float32 SIMD pass
        return cv2.blur(np.ascontiguousarray(a, dtype=np.float32), (n, 1), borderType=cv2.BORDER_CONSTANT)
    c = np.cumsum(np.pad(a, ((0, 0), (n // 2 + 1, n // 2))), axis=1, dtype=np.float64)
    return ((c[:, n:] - c[:, :-n]) / n).astype(np.float32)


def _full_fields(shape: tuple[int, int], coarse: Mapping[str, Any], fields: Mapping[str, Any],
                 factors: list[np.ndarray] | None = None,
                 frame: np.ndarray | None = None) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """([M_R, M_G, M_B], [W_R, W_G, W_B]) at full resolution (scratch): p_c ← p_c·M_c + W_c with
    transmission t: M_c = F_c·G·keep·t, W_c = S_c·cover·t + A_c·(1 − t) (S and A carry the
    exposure gain G; F_c the overcast ``factors`` at half resolution, or 1). The smooth
    fields are formed on the coarse grid (M_c at half resolution) and upsampled once each
    (bilinear upsampling is linear: W_c's terms need no planes of their own); with the decoded
    ``frame``, t is brought to half resolution with its edges on the frame's (:func:`_half_fields`)."""
    h, w = shape
    t = fields["t"]
    keep = fields["keep"] * np.float32(fields["gain"])
    snow, air = (np.asarray(fields[n], dtype=np.float32) for n in ("snow", "air"))
    ws = [buffer(f"snow_w{c}", (h, w)) for c in range(3)]
    if coarse["full"]:  # a measured depth: t at full resolution (the factors were applied)
        m = upsample(keep, (h, w), out=buffer("snow_m", (h, w)))
        multiply(m, t)
        v = upsample(fields["cover"], (h, w), out=buffer("snow_v", (h, w)))
        multiply(v, t)
        u = np.subtract(np.float32(1.0), t, out=buffer("snow_u", (h, w)))
        for c, acc in enumerate(ws):
            _weighted(v, float(snow[c]), u, float(air[c]), acc)
        return [m] * 3, ws
    if frame is not None and min(t.shape) >= 4:
        return _half_fields((h, w), fields, keep, factors, frame, ws)
    lit, haze = fields["cover"] * t, np.float32(1.0) - t
    for c, acc in enumerate(ws):
        upsample(lit * snow[c] + haze * air[c], (h, w), out=acc)
    return _gains(keep * t, (h, w), factors), ws


def _half_fields(shape: tuple[int, int], fields: Mapping[str, Any], keep: np.ndarray,
                 factors: list[np.ndarray] | None, frame: np.ndarray,
                 ws: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """:func:`_full_fields` on the coarse grid's way with the transmission t brought to half resolution
    by the guided filter (:func:`.guided.guided_upsample`, as Fog's: its edges on the tree/sky line, no
    coarse-cell staircase in the haze), the fields M_c, W_c formed there and upsampled once each."""
    half = factors[0].shape if factors is not None else half_shape(shape)
    t = guided_upsample(fields["t"], frame, half, out=buffer("snow_t_half", half), at_shape=True)
    lit = upsample(fields["cover"], half, out=buffer("snow_lit_half", half))
    multiply(lit, t)
    snow, air = (np.asarray(fields[n], dtype=np.float32) for n in ("snow", "air"))
    w_half = buffer("snow_w_half", half)
    for c, acc in enumerate(ws):
        _weighted(lit, float(snow[c]), t, -float(air[c]), w_half, float(air[c]))  # S·lit·t + A·(1 − t)
        upsample(w_half, shape, out=acc)
    m = upsample(keep, half, out=buffer("snow_m_half", half))
    multiply(m, t)
    return _gains(m, shape, factors), ws


def _weighted(a: np.ndarray, alpha: float, b: np.ndarray, beta: float, out: np.ndarray, gamma: float = 0.0) -> None:
    """``out`` ← alpha·a + beta·b + gamma (float32 H×W; OpenCV's SIMD pass when present)."""
    cv2 = cv2_module()
    if cv2 is not None and a.flags.c_contiguous and b.flags.c_contiguous and a.shape[1] < 2**20:
        cv2.addWeighted(a, alpha, b, beta, gamma, dst=out)
    else:
        np.multiply(a, np.float32(alpha), out=out)
        out += b * np.float32(beta)
        if gamma:
            out += np.float32(gamma)


def _accumulate_product(p: np.ndarray, m: np.ndarray, acc: np.ndarray) -> None:
    """In place: ``acc += p·m`` (float32 H×W; one fused OpenCV pass when present, else ``p``
    is overwritten with the product)."""
    cv2 = cv2_module()
    if (cv2 is not None and p.dtype == m.dtype == acc.dtype == np.float32 and p.flags.c_contiguous
            and m.flags.c_contiguous and acc.flags.c_contiguous and p.shape[1] < 2**20 and p.size):
        cv2.accumulateProduct(p, m, acc)
    else:
        np.multiply(p, m, out=p)
        acc += p


def _gains(m: np.ndarray, shape: tuple[int, int], factors: list[np.ndarray] | None) -> list[np.ndarray]:
    """The per-plane gains at full resolution: the coarse ``m`` upsampled (one field for all
    planes), or with the overcast ``factors`` F_c: m brought to their half resolution,
    F_c·m there, each upsampled once."""
    if factors is None:
        return [upsample(m, shape, out=buffer("snow_m", shape))] * 3
    m_half = m if m.shape == factors[0].shape else upsample(m, factors[0].shape,
                                                            out=buffer("snow_m_half", factors[0].shape))
    out = []
    for c, f in enumerate(factors):
        np.multiply(f, m_half, out=f)  # the factors are scratch: F_c·m in place
        out.append(upsample(f, shape, out=buffer(f"snow_m{c}", shape)))
    return out


def _resized(field: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``field`` (float32 2-D) sampled bilinearly at the cells of a ``shape`` grid."""
    cv2 = cv2_module()
    if cv2 is not None and max(shape) < 32768:
        return cv2.resize(np.ascontiguousarray(field), (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    rows = np.minimum(((np.arange(shape[0]) + 0.5) * field.shape[0] / shape[0]).astype(np.intp), field.shape[0] - 1)
    cols = np.minimum(((np.arange(shape[1]) + 0.5) * field.shape[1] / shape[1]).astype(np.intp), field.shape[1] - 1)
    return field[rows][:, cols]


def _flakes(shape: tuple[int, int], params: Mapping[str, Any], coarse: Mapping[str, Any]) -> np.ndarray | None:
    """Flake opacity φ (H×W scratch, clipped to 1), None without flakes. Flakes behind the
    scene's surfaces are hidden, and all over the ego vehicle (the dashboard in front of
    the windscreen, the hood a metre or two ahead)."""
    if int(params["max_flakes"]) <= 0:
        return None
    cam = params["camera"]
    k = 1 if coarse["full"] else int(coarse["k"])
    dist = np.array(coarse["dist"], dtype=np.float32)
    if not coarse["full"]:
        dist[coarse["labels"] == EGO] = 0.0
    phi = flake_opacity(
        shape, seed=int(params["seed"]), visibility_m=float(params["visibility_m"]),
        mean_diameter_mm=float(params["flake_size_mm"]), exposure_s=float(params["exposure_ms"]) * 1e-3,
        focal_px=cam["focal_length_px"], horizon_row=cam["horizon_row"], wind_m_s=float(params["wind_mps"]),
        ego_speed_m_s=float(params["speed_kmh"]) / 3.6, max_flakes=int(params["max_flakes"]),
        occluder=(dist, k), scratch=True,
    )
    return clip_max(phi, 1.0)
