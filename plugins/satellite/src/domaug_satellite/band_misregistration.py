"""satellite.BandMisregistration: bands that do not quite overlay (sub-pixel shifts, small rotation)."""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from domaug.kit import Context, ParameterError, PixelTransform, UnsupportedInputError, check_number, layout_of, to_float

from . import bands, sensor_presets
from .warp_ops import warp_band


class BandMisregistration(PixelTransform):
    """Band-to-band misregistration of a multispectral sensor.

    Model: each band b is resampled at ``R(θ_b)·(x − c) + c − s_b`` (a sub-pixel shift s_b
    and a small rotation θ_b about the raster centre c), as between separate focal-plane
    modules or the five lenses of a MicaSense camera; the reference band is left as is and
    labels stay aligned with it (Sentinel-2 MSI inter-band registration spec: 0.3 px).

    Parameters
    ----------
    sensor : "auto" or a preset of :mod:`sensor_presets`
        Sets the default shift from the product's registration accuracy: ``landsat_oli``
        L1T < 0.15 px, ``sentinel2_msi`` 0.3 px, ``planetscope`` / ``drone_multispectral``
        (registered products) 0.5 px, ``generic`` 0.3 px. ``"auto"``: the sensor ``meta``
        names, else generic.
    max_shift_px : float, optional
        Shifts drawn uniformly in ±max_shift_px per axis and band (default: the preset's
        registration / √2, so that no shift exceeds it; 1–15 px for unregistered frames).
    max_rotation_deg : float
        Rotations drawn uniformly in ±max_rotation_deg (default 0; try 0.1).
    reference_band : int or str
        Band index or role name (``meta["band_names"]``) that stays put (default 0).

    Targets: image (≥ 2 bands), masks/valid unchanged (aligned with the reference band);
    linear interpolation with normalised weights so nodata never bleeds into valid pixels.
    """

    #: windows agree with the whole (absolute coordinates); reach = the largest displacement
    window_safe = True

    def window_halo(self, params: Mapping[str, Any]) -> int:
        full = params.get("full_shape") or (0, 0)
        shift = max((max(abs(v) for v in s) for s in params["shifts_px"]), default=0.0)
        angle = max((abs(a) for a in params["angles_deg"]), default=0.0)
        return int(math.ceil(shift + math.radians(angle) * math.hypot(*full) / 2)) + 2

    def __init__(self, max_shift_px: float | None = None, max_rotation_deg: float = 0.0,
                 reference_band: int | str = 0, sensor: str = "auto", p: float = 1.0) -> None:
        super().__init__(p=p)
        self.max_shift = None if max_shift_px is None else check_number(max_shift_px, "max_shift_px", low=0, high=100)
        self.sensor = sensor_presets.check_sensor(sensor)
        self.max_rot = check_number(max_rotation_deg, "max_rotation_deg", low=0, high=10)
        if not isinstance(reference_band, (int, str)) or isinstance(reference_band, bool):
            raise ParameterError(f"reference_band must be a band index or role name, got {reference_band!r}")
        self.reference = reference_band

    def check_input(self, sample: Mapping[str, Any]) -> None:
        super().check_input(sample)
        bands.require_raster(sample, self.name_for_errors())
        if not layout_of(sample).has_channels:
            raise UnsupportedInputError(f"{self.name_for_errors()} needs a multi-band image (H×W×bands)")
        self._reference_index(sample)

    def _reference_index(self, sample: Mapping[str, Any]) -> int:
        n = bands.n_bands(sample)
        if isinstance(self.reference, str):
            roles = bands.SATELLITE.names(sample)
            if self.reference.lower() not in roles:
                raise ParameterError(f"reference_band {self.reference!r} is not among the band roles {roles}")
            return roles.index(self.reference.lower())
        if not -n <= self.reference < n:
            raise ParameterError(f"reference_band must be a band index < {n}, got {self.reference!r}")
        return self.reference % n

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        ref = self._reference_index(sample)
        preset, source = sensor_presets.resolve(self.sensor, sample.get("meta") or {})
        max_shift = preset.registration_px / math.sqrt(2.0) if self.max_shift is None else self.max_shift
        shifts, angles = [], []
        for b in range(bands.n_bands(sample)):
            s = [float(v) for v in rng.uniform(-max_shift, max_shift, 2)] if max_shift else [0.0, 0.0]
            a = float(rng.uniform(-self.max_rot, self.max_rot)) if self.max_rot else 0.0
            shifts.append([0.0, 0.0] if b == ref else s)
            angles.append(0.0 if b == ref else a)
        _, full = bands.window_of(sample)
        return {"shifts_px": shifts, "angles_deg": angles, "full_shape": list(full), "sensor": preset.name,
                "sensor_source": source, "max_shift_px": max_shift}

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        (r0, c0), full = bands.window_of(ctx)
        centre = ((full[0] - 1) / 2.0, (full[1] - 1) / 2.0)
        valid = ctx.valid
        out = to_float(image)
        invalid = None if valid is None else np.flatnonzero(~valid)
        if invalid is not None and not invalid.size:
            valid = invalid = None  # all valid: the plain warp (the same pixels)
        for b, (shift, angle) in enumerate(zip(params["shifts_px"], params["angles_deg"])):
            if list(shift) == [0.0, 0.0] and angle == 0.0:
                continue
            out[..., b] = warp_band(out[..., b], valid, shift, angle, (r0, c0), centre, invalid)
        return out
