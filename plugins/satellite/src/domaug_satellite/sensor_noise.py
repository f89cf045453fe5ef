"""satellite.SensorNoise: signal-dependent detector noise and re-quantisation."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from domaug.kit import (
    Context,
    ParameterError,
    PixelTransform,
    block_rows,
    check_number,
    check_range,
    draw_seed,
    row_blocks,
    sample_uniform,
    to_float,
)

from . import bands, sensor_presets
from .band_ops import tiled
from .pixel_random import NormalSource


class SensorNoise(PixelTransform):
    """Photon (shot) plus read noise of each band's detectors, then re-quantisation.

    Model: Poisson–Gaussian noise in its heteroscedastic normal form, variance
    ``σ²(ρ) = a·ρ + b`` in reflectance units (Foi et al., IEEE TIP 17(10), 2008). a and b
    follow from the signal-to-noise ratio at a reference reflectance (how sensor specs
    quote it): ``σ_ref = ρ_ref / SNR``, ``b = f·σ_ref²``, ``a = (1−f)·σ_ref² / ρ_ref``.

    Parameters
    ----------
    sensor : "auto" or a preset of :mod:`sensor_presets`
        ``landsat_oli`` (NEΔρ ≈ 0.0002 at L_typical, Morfitt et al. 2015), ``sentinel2_msi``,
        ``planetscope``, ``drone_multispectral``, ``generic``. ``"auto"`` (default) takes the
        sensor ``meta`` names (``sensor`` / ``spacecraft``, e.g. from a Landsat MTL), else
        ``generic``; the params record which and why.
    snr : float or (low, high), optional
        Overrides the preset: SNR at ``reference_reflectance``, one draw for all bands.
    reference_reflectance : float, optional
        Reference reflectance of ``snr`` (default 0.3; only with ``snr``).
    read_noise_fraction : float, optional
        Share f of the reference variance that is signal-independent (default by preset, 0.3–0.4).
    bit_depth : int, optional
        Re-quantise to this many bits per unit reflectance (e.g. 8, 10, 12); default none.

    Targets: image (any band count; uint8/uint16/float, reflectance via
    :func:`bands.reflectance_scaling`), valid (nodata kept). Noise is keyed by absolute
    pixel coordinates (``meta["window_offset"]``), so windows agree with the whole.
    """

    #: windows agree with the whole (fields and noise keyed by absolute pixel coordinates)
    window_safe = True

    def __init__(self, snr: float | Sequence[float] | None = None, reference_reflectance: float | None = None,
                 read_noise_fraction: float | None = None, bit_depth: int | None = None, sensor: str = "auto",
                 p: float = 1.0) -> None:
        super().__init__(p=p)
        self.sensor = sensor_presets.check_sensor(sensor)
        self.snr = None if snr is None else check_range(snr, "snr", low=0, low_inclusive=False)
        if reference_reflectance is not None and snr is None:
            raise ParameterError("reference_reflectance is the reflectance of a given snr: pass snr too "
                                 "(the sensor presets carry their own per band)")
        self.ref = check_number(0.3 if reference_reflectance is None else reference_reflectance,
                                "reference_reflectance", low=0, low_inclusive=False)
        self.read = None if read_noise_fraction is None else check_number(
            read_noise_fraction, "read_noise_fraction", low=0, high=1)
        self.bit_depth = None if bit_depth is None else check_number(bit_depth, "bit_depth", low=1, high=32,
                                                                     integer=True)

    def check_input(self, sample: Mapping[str, Any]) -> None:
        super().check_input(sample)
        bands.require_raster(sample, self.name_for_errors())

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        gains, offsets = bands.reflectance_scaling(sample)
        preset, source = sensor_presets.resolve(self.sensor, sample.get("meta") or {})
        read = preset.read_noise_fraction if self.read is None else self.read
        if self.snr is not None:
            drawn = sample_uniform(rng, self.snr)
            per_band = [(drawn, self.ref)] * len(gains)
        else:
            per_band = [preset.band_noise(role) for role in bands.SATELLITE.names(sample)]
        a, b = [], []
        for snr, ref in per_band:
            var = (ref / snr) ** 2
            b.append(read * var)
            a.append((1.0 - read) * var / ref)
        return {"seed": draw_seed(rng), "a": a, "b": b, "bit_depth": self.bit_depth,
                "dn_gain": gains, "dn_offset": offsets, "sensor": preset.name, "sensor_source": source,
                "snr": [v[0] for v in per_band], "reference_reflectance": [v[1] for v in per_band]}

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        lay = ctx.layout
        (r0, c0), _ = bands.window_of(ctx)
        out = to_float(image)
        h, w = lay.spatial_shape
        c = lay.n_channels if lay.has_channels else 1
        rows = out.reshape(h, w * c)  # one row = all bands of all pixels: contiguous passes
        return add_sensor_noise(rows, int(params["seed"]), (r0, c0 * c), params, c).reshape(out.shape) \
            if h and w else out


def add_sensor_noise(rows: np.ndarray, seed: int, origin, params: Mapping[str, Any], c: int) -> np.ndarray:
    """Add σ(ρ)·n in place to ``rows`` (H × W·bands, DN) and re-quantise if asked.

    Without re-quantisation the variance is taken to DN directly:
    ``σ²_DN = max(a/g·DN + (a·o + b)/g², b/g²)`` (= (a·max(ρ, 0) + b)/g² with ρ = g·DN + o);
    with it, the work is in reflectance. Row blocks keep the normals and temporaries in cache.
    """
    h, wc = rows.shape
    w = wc // c
    dt = rows.dtype
    a = np.asarray(params["a"][:c], np.float64)
    b = np.asarray(params["b"][:c], np.float64)
    g = np.asarray(params["dn_gain"][:c], np.float64)
    o = np.asarray(params["dn_offset"][:c], np.float64)
    bits = params["bit_depth"]
    if bits:
        g_row, o_row = tiled(g, w, dt), tiled(o, w, dt)
        a_row, b_row = tiled(a, w, dt), tiled(b, w, dt)
        levels = dt.type(2.0 ** int(bits) - 1)
    else:
        a_row = tiled(a / g, w, dt)
        c_row = tiled((a * o + b) / (g * g), w, dt)
        b_row = tiled(b / (g * g), w, dt)
    step = block_rows(h, wc)
    src = NormalSource(seed, origin[0], h, origin[1], wc, step)
    buf = np.empty((step, wc), dt)
    for r, r1 in row_blocks(0, h, wc):
        m = r1 - r
        x, v, noise = rows[r:r1], buf[:m], src.rows(r, m)
        if bits:
            x *= g_row
            x += o_row  # reflectance ρ
            np.maximum(x, 0, out=v)
            v *= a_row
            v += b_row
        else:
            np.multiply(x, a_row, out=v)
            v += c_row
            np.maximum(v, b_row, out=v)
        np.sqrt(v, out=v)
        v *= noise
        x += v
        if bits:
            x *= levels
            np.round(x, out=x)
            x /= levels
            x -= o_row
            x /= g_row
    return rows
