"""satellite.SensorNoise: signal-dependent detector noise and re-quantisation."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from domaug.dtypes import to_float
from domaug.params import check_number, check_range, draw_seed, sample_uniform
from domaug.targets import layout_of
from domaug.transform import PixelTransform

from . import bands
from .pixel_random import pixel_normals


class SensorNoise(PixelTransform):
    """Photon (shot) plus read noise of each band's detectors, then re-quantisation.

    Model: Poisson–Gaussian noise in its heteroscedastic normal form, variance
    ``σ²(ρ) = a·ρ + b`` in reflectance units (Foi et al., IEEE TIP 17(10), 2008). a and b
    follow from the signal-to-noise ratio at a reference reflectance (how sensor specs
    quote it, e.g. Sentinel-2 SNR ≈ 100–170 at L_ref): ``σ_ref = ρ_ref / SNR``,
    ``b = f·σ_ref²``, ``a = (1−f)·σ_ref² / ρ_ref``.

    Parameters
    ----------
    snr : float or (low, high)
        Signal-to-noise ratio at ``reference_reflectance`` (default 30–150; one draw per band
        within the range).
    reference_reflectance : float
        Reference reflectance of the SNR (default 0.3).
    read_noise_fraction : float
        Share f of the reference variance that is signal-independent (default 0.3).
    bit_depth : int, optional
        Re-quantise to this many bits per unit reflectance (e.g. 8, 10, 12); default none.

    Targets: image (any band count; uint8/uint16/float, reflectance via
    :func:`bands.reflectance_scaling`), valid (nodata kept). Noise is keyed by absolute
    pixel coordinates (``meta["window_offset"]``), so windows agree with the whole.
    """

    #: windows agree with the whole (fields and noise keyed by absolute pixel coordinates)
    window_safe = True

    def window_halo(self, params: Mapping[str, Any]) -> int:
        return 0

    def __init__(self, snr: float | Sequence[float] = (30.0, 150.0), reference_reflectance: float = 0.3,
                 read_noise_fraction: float = 0.3, bit_depth: int | None = None, p: float = 1.0) -> None:
        super().__init__(p=p)
        self.snr = check_range(snr, "snr", low=0, low_inclusive=False)
        self.ref = check_number(reference_reflectance, "reference_reflectance", low=0, low_inclusive=False)
        self.read = check_number(read_noise_fraction, "read_noise_fraction", low=0, high=1)
        self.bit_depth = None if bit_depth is None else check_number(bit_depth, "bit_depth", low=1, high=32,
                                                                     integer=True)

    def check_input(self, sample: Mapping[str, Any]) -> None:
        super().check_input(sample)
        bands.check_image_2d(sample, "satellite.SensorNoise")

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        gains, offsets = bands.reflectance_scaling(sample)
        snrs = [sample_uniform(rng, self.snr) for _ in gains]
        a, b = [], []
        for snr in snrs:
            var = (self.ref / snr) ** 2
            b.append(self.read * var)
            a.append((1.0 - self.read) * var / self.ref)
        return {"seed": draw_seed(rng), "a": a, "b": b, "bit_depth": self.bit_depth,
                "dn_gain": gains, "dn_offset": offsets}

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], sample: Mapping[str, Any]) -> np.ndarray:
        lay = layout_of(sample)
        (r0, c0), _ = bands.window_of(sample)
        out = to_float(image)
        views = [out[..., k] for k in range(lay.n_channels)] if lay.has_channels else [out]
        bits = params["bit_depth"]
        noise = pixel_normals(int(params["seed"]), lay.spatial_shape + (len(views),), (r0, c0, 0))
        for k, band in enumerate(views):
            g, o = np.float32(params["dn_gain"][k]), np.float32(params["dn_offset"][k])
            rho = band * g + o
            std = np.sqrt(np.maximum(np.float32(params["a"][k]) * np.maximum(rho, 0) + np.float32(params["b"][k]), 0))
            rho += std * noise[..., k]
            if bits:
                levels = np.float32(2.0 ** int(bits) - 1)
                rho = np.round(rho * levels) / levels
            band[...] = (rho - o) / g
        return out
