"""agriculture.BandMisalignment: per-band sub-pixel offsets of a multi-lens camera."""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from domaug.kit import AffineSampler, Context, ParameterError, as_hwc, check_range, cv2_module, sample_uniform

from . import bands, camera_presets
from ._base import AgriPixelTransform, working_copy


def shift_plane(plane: np.ndarray, drow: float, dcol: float) -> np.ndarray:
    """Bilinear sub-pixel translation: ``out[i, j] = plane[i − drow, j − dcol]``, edges replicated (float32).

    ``plane`` is H×W or H×W×K (K planes moved alike). Separable two-tap interpolation
    (the same result as ``scipy.ndimage.shift(order=1, mode='nearest')``): with OpenCV,
    one ``sepFilter2D`` of the taps (f, 1 − f) on an edge-replicated border; else numpy
    slices. The two differ by float32 rounding only. May return a view.
    """
    cv2 = cv2_module()
    # (OpenCV reads a 0/1 uint8 weight plane directly: 4× less memory traffic)
    plane = np.ascontiguousarray(plane, dtype=None if cv2 is not None and plane.dtype == np.uint8 else np.float32)
    if drow == 0 and dcol == 0:
        return plane.astype(np.float32)
    h, w = plane.shape[:2]
    kr, kc = math.floor(drow), math.floor(dcol)
    fr, fc = np.float32(drow - kr), np.float32(dcol - kc)
    mr, mc = abs(kr) + 2, abs(kc) + 2
    channels = 1 if plane.ndim == 2 else plane.shape[2]
    if cv2 is not None and max(h, w) + 2 * max(mr, mc) < 2**31 and channels <= 4:
        return _shift_cv(cv2, plane, (kr, fr, mr), (kc, fc, mc))
    return _shift_numpy(plane, (kr, fr, mr), (kc, fc, mc))


def _shift_cv(cv2, plane: np.ndarray, rows: tuple, cols: tuple) -> np.ndarray:
    """:func:`shift_plane` as one ``sepFilter2D`` on an edge-replicated border; ``rows`` and
    ``cols`` are (whole pixels k, fraction f, border margin m) of the shift along each axis."""
    (kr, fr, mr), (kc, fc, mc) = rows, cols
    h, w = plane.shape[:2]
    padded = cv2.copyMakeBorder(plane, mr, mr, mc, mc, cv2.BORDER_REPLICATE)
    if padded.ndim < plane.ndim:
        padded = padded[..., None]
    # out[i] = f·P[i − k − 1] + (1 − f)·P[i − k]: correlate taps (f, 1 − f) from row m − k − 1
    view = padded[mr - kr - 1: mr - kr + h, mc - kc - 1: mc - kc + w]
    ky = np.array([fr, 1 - fr], np.float32)
    kx = np.array([fc, 1 - fc], np.float32)
    out = cv2.sepFilter2D(view, cv2.CV_32F, kx, ky, anchor=(0, 0), borderType=cv2.BORDER_REPLICATE)
    return out.reshape(view.shape)[:h, :w]


def _shift_numpy(plane: np.ndarray, rows: tuple, cols: tuple) -> np.ndarray:
    """:func:`shift_plane` as two-tap blends of edge-padded slices, one axis after the other."""
    out = plane.astype(np.float32, copy=False)
    for axis, (k, f, m) in enumerate((rows, cols)):
        if k == 0 and f == 0:
            continue
        n = out.shape[axis]
        pad = [(0, 0)] * out.ndim
        pad[axis] = (m, m)
        padded = np.pad(out, pad, mode="edge")
        a = padded[m - k: m - k + n] if axis == 0 else padded[:, m - k: m - k + n]
        b = padded[m - k - 1: m - k - 1 + n] if axis == 0 else padded[:, m - k - 1: m - k - 1 + n]
        out = b - a
        out *= f
        out += a
    return out


class BandMisalignment(AgriPixelTransform):
    """Band-to-band misregistration of multi-lens cameras (MicaSense, Parrot Sequoia), per camera preset.

    Model: each band but the reference is translated by its own offset (lens boresight
    differences; raw MicaSense RedEdge frames measured at 2.7–14.8 px from green, see
    :mod:`domaug_agriculture.camera_presets`), optionally with a small rotation and scale
    about the frame centre (lens mounting and focal-length differences), resampled
    bilinearly (normalised inside the footprint). Registered products keep 0.05–0.5 px;
    a single-sensor RGB photo has none (a recorded no-op unless ``shift_px`` is given).
    Labels, boxes and the alpha band stay on the reference band's grid.

    Parameters
    ----------
    camera : str
        ``"auto"`` (RGB-only frames: ``"single-sensor"``; others: ``"registered"``),
        ``"micasense-rededge-raw"``, ``"registered"``, ``"multilens-raw"``, ``"single-sensor"``.
    shift_px : float or (low, high), optional
        Offset length per band, pixels, in a random direction: overrides the camera preset
        (and applies to any frame, RGB included).
    reference_band : str or int
        Band that stays put: a role name from ``band_names`` (default ``"green"``, else band 0) or an index.
    rotation_deg, scale_change : float or (low, high), optional
        Largest rotation (degrees) and relative scale difference per band (drawn in ±);
        default: the preset's.
    p : float
        Probability of applying.

    Targets: image; other targets pass through (they follow the reference band).
    """

    def __init__(
        self,
        shift_px: float | tuple[float, float] | None = None,
        reference_band: str | int = "green",
        rotation_deg: float | tuple[float, float] | None = None,
        scale_change: float | tuple[float, float] | None = None,
        camera: str = "auto",
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        name = camera_presets.ALIASES.get(camera, camera)
        if name != "auto" and name not in camera_presets.PRESETS:
            raise ParameterError(f"camera must be 'auto' or one of {sorted(camera_presets.PRESETS)}, got {camera!r}")
        self.camera = name
        self.shift_px = None if shift_px is None else check_range(shift_px, "shift_px", low=0.0, high=100.0)
        self.rotation_deg = None if rotation_deg is None else check_range(rotation_deg, "rotation_deg", low=0.0,
                                                                          high=10.0)
        self.scale_change = None if scale_change is None else check_range(scale_change, "scale_change", low=0.0,
                                                                          high=0.1)
        if not isinstance(reference_band, (str, int)) or isinstance(reference_band, bool):
            raise ParameterError(f"reference_band must be a band name or index, got {reference_band!r}")
        self.reference_band = reference_band

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        n = as_hwc(sample["image"]).shape[-1]
        ref = self.reference_band
        if isinstance(ref, str):
            ref = bands.roles(sample).get(ref, 0)
        if not 0 <= int(ref) < n:
            raise ParameterError(f"reference_band {self.reference_band!r} is not a band of this {n}-band image")
        names = bands.DRONE.names(sample)
        camera = camera_presets.camera_for(names) if self.camera == "auto" else self.camera
        if self.shift_px is not None:
            camera = "custom"
        preset = camera_presets.PRESETS.get(camera, camera_presets.PRESETS["registered"])
        rot = self.rotation_deg if self.rotation_deg is not None else preset["rotation_deg"]
        scl = self.scale_change if self.scale_change is not None else preset["scale_change"]
        spectral = set(bands.spectral_channels(sample))
        params = {"camera": camera, "reference_band": int(ref), "shifts_px": [], "rotations_deg": [], "scales": []}
        if camera == "single-sensor":
            params["note"] = "single-sensor RGB camera: bands share one lens, no misalignment (set shift_px to force)"
            spectral = set()
        for b in range(n):
            if b == ref or b not in spectral:
                shift, angle, scale = [0.0, 0.0], 0.0, 1.0
            else:
                shift = _band_shift(rng, names[b], names[int(ref)], preset, self.shift_px)
                angle, scale = _signed(rng, rot), 1.0 + _signed(rng, scl)
            params["shifts_px"].append(shift)
            params["rotations_deg"].append(angle)
            params["scales"].append(scale)
        return params

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        x = working_copy(image, ctx)
        fp = ctx.footprint
        w = None if fp is None else fp.view(np.uint8)  # 0/1 weights (shift_plane returns float32)
        y = x  # bands are read once each, before they are overwritten
        n = len(params["shifts_px"])
        rotations = params.get("rotations_deg") or [0.0] * n
        scales = params.get("scales") or [1.0] * n
        for b, ((dr, dc), rot, scale) in enumerate(zip(params["shifts_px"], rotations, scales)):
            if dr == 0 and dc == 0 and rot == 0 and scale == 1:
                continue
            if rot == 0 and scale == 1:
                move = lambda a, dr=dr, dc=dc: shift_plane(a, dr, dc)  # noqa: E731
            else:
                sampler = AffineSampler(band_matrix(x.shape[:2], dr, dc, rot, scale), x.shape[:2], x.shape[:2])
                move = lambda a, s=sampler: s.sample(np.ascontiguousarray(a, dtype=np.float32), 1)  # noqa: E731
            band = np.ascontiguousarray(x[..., b])
            if w is None:
                y[..., b] = move(band)
            else:  # normalised: nodata never bleeds into the footprint (x is 0 outside it: x = x·w)
                num, den = move(band), move(w)
                hit = den > 1e-6
                np.maximum(den, np.float32(1e-6), out=den)
                np.divide(num, den, out=num)
                np.copyto(num, band, where=~hit)
                y[..., b] = num
        return y


def _band_shift(rng: np.random.Generator, name: str, ref_name: str, preset: Mapping[str, Any],
                shift_px: tuple[float, float] | None) -> list[float]:
    """(drow, dcol) of one band: the preset's measured offset (relative to green, re-referenced to the
    reference band) with its jitter, else a length from ``shift_px`` or the preset in a random direction."""
    table = preset.get("offsets_px") if shift_px is None else None
    if table is not None and name in table | {"green": (0.0, 0.0)} and ref_name in table | {"green": (0.0, 0.0)}:
        known = table | {"green": (0.0, 0.0)}
        jitter = float(preset.get("jitter_px", 0.0))
        return [known[name][k] - known[ref_name][k] + float(rng.normal(0.0, jitter)) for k in (0, 1)]
    length = sample_uniform(rng, shift_px if shift_px is not None else preset["shift_px"])
    angle = float(rng.uniform(0.0, 2 * math.pi))
    return [length * math.sin(angle), length * math.cos(angle)]


def _signed(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    """A magnitude from ``bounds`` with a random sign (no draw when the bound is 0)."""
    if bounds == (0.0, 0.0):
        return 0.0
    return sample_uniform(rng, bounds) * (1.0 if rng.random() < 0.5 else -1.0)


def band_matrix(shape: tuple[int, int], drow: float, dcol: float, rotation_deg: float, scale: float) -> np.ndarray:
    """Out→in map (edge coordinates) of a band moved by (drow, dcol), rotated and scaled about the centre."""
    cr, cc = shape[0] / 2.0, shape[1] / 2.0
    t = math.radians(rotation_deg)
    a = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]]) / scale
    m = np.eye(3)
    m[:2, :2] = a
    centre = np.array([cr, cc])
    m[:2, 2] = centre - a @ (centre + np.array([drow, dcol]))
    return m
