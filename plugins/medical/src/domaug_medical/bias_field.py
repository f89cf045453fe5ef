"""medical.BiasField: smooth multiplicative intensity inhomogeneity of MR (RF coil sensitivity)."""

from __future__ import annotations

from itertools import product
from typing import Any, Mapping

import numpy as np

from domaug.kit import Context, PixelTransform, check_number, check_range, sample_uniform, to_float

from ._base import MedicalMixin, MRArtefactMixin, medical_layout


def monomial_exponents(ndim: int, order: int) -> list[tuple[int, ...]]:
    """All exponent tuples of total degree <= ``order`` (the constant term excluded)."""
    return [e for e in product(range(order + 1), repeat=ndim) if 0 < sum(e) <= order]


def log_field(shape, exponents, coefficients) -> np.ndarray:
    """``Σ c·x^i y^j (z^k)`` on coordinates in [−1, 1], evaluated separably (float32)."""
    ndim = len(shape)
    order = max((sum(e) for e in exponents), default=0)
    tensor = np.zeros((order + 1,) * ndim, dtype=np.float64)
    for e, c in zip(exponents, coefficients):
        tensor[tuple(e)] = c
    powers = []
    for n in shape:
        x = np.linspace(-1.0, 1.0, n) if n > 1 else np.zeros(1)
        powers.append(np.stack([x**k for k in range(order + 1)]))  # (order+1, n)
    # contract axes 1..n-1 on the small coefficient tensor (each new axis goes to the end),
    # the full-size first axis last
    acc = tensor
    for axis in range(1, ndim):
        acc = np.tensordot(acc, powers[axis], axes=([1], [0]))
    acc = acc.astype(np.float32)
    out = np.tensordot(powers[0].T.astype(np.float32), acc, axes=([1], [0]))
    return out.reshape(tuple(shape)).astype(np.float32, copy=False)


#: Half peak-to-peak of the log bias field (so the field spans about e^{±a}) by main field
#: strength, tesla → (low, high): 10–20 % peak-to-peak non-uniformity at 1.5 T (BrainWeb's
#: "20 %" level), 20–40 % at 3 T (central brightening, dielectric effects; BrainWeb's
#: strongest, "40 %"), 60–140 % at 7 T.
AMPLITUDE_BY_TESLA = ((1.5, (0.05, 0.10)), (3.0, (0.10, 0.20)), (7.0, (0.30, 0.60)))


def amplitude_range(field_strength_t: float) -> tuple[float, float]:
    """The (low, high) log-field amplitude at ``field_strength_t`` (linear between the table's
    field strengths, held constant outside them)."""
    teslas = [t for t, _ in AMPLITUDE_BY_TESLA]
    lows = [a[0] for _, a in AMPLITUDE_BY_TESLA]
    highs = [a[1] for _, a in AMPLITUDE_BY_TESLA]
    return float(np.interp(field_strength_t, teslas, lows)), float(np.interp(field_strength_t, teslas, highs))


def scale_to_amplitude(exponents, coefficients, ndim: int, amplitude: float) -> list[float]:
    """Coefficients (the constant term last) for a log field of half peak-to-peak
    ``amplitude`` and zero mean, measured on a 33-point grid per axis over [−1, 1]."""
    grid = log_field((33,) * ndim, [tuple(e) for e in exponents], coefficients).astype(np.float64)
    half_range = 0.5 * float(grid.max() - grid.min())
    gain = amplitude / half_range if half_range > 0 else 0.0
    return [c * gain for c in coefficients] + [-float(grid.mean()) * gain]


class BiasField(MRArtefactMixin, MedicalMixin, PixelTransform):
    """MR bias field: a smooth multiplicative intensity inhomogeneity (coil sensitivity, B1).

    Model: ``I' = I · exp(Σ c_ijk x^i y^j z^k)``, a low-order polynomial log-field on coordinates
    scaled to [−1, 1] (the model behind N4/N3 bias correction, Sled et al., IEEE TMI 1998;
    TorchIO RandomBiasField uses the same form). The log field has zero mean over the
    image (mean intensity kept) and is multiplicative, so ratios of tissues are kept locally.

    Default level: by main field strength, the half peak-to-peak ``a`` of the log field
    (intensities spanning about e^{±a}): 0.05–0.10 at 1.5 T, 0.10–0.20 at 3 T, 0.30–0.60 at
    7 T, i.e. 10–20 %, 20–40 % and 60–140 % peak-to-peak — BrainWeb simulates 0, 20 and 40 %
    non-uniformity as the clinical range (Kwan, Evans & Pike, IEEE TMI 18(11):1085, 1999);
    it grows with B0 as the RF wavelength in tissue shrinks (Vaughan et al., MRM 46:24,
    2001, 7 T vs 4 T head; Belaroussi et al., Med Image Anal 10:234, 2006, review; all cited
    from memory). Random coefficients give the
    shape, then are scaled to that amplitude.

    Parameters
    ----------
    field_strength_t : float or (low, high)
        Main field B0 in tesla; sets the amplitude range. Default 1.5–3 (clinical). Use 7
        for ultra-high field.
    amplitude : float or (low, high), optional
        Half peak-to-peak of the log field, overriding ``field_strength_t``.
    coefficients : float or (low, high), optional
        Given: the previous raw model, each coefficient drawn in (−c, c) for a scalar c or in
        (low, high), *not* scaled (the field strength is then ignored). Default None.
    order : int
        Polynomial order (1–5). Default 3.
    p : float
        Probability of applying.

    Targets: image (2-D or 3-D). Other targets pass through.
    An MR artefact: images whose meta says CT are refused (one line).
    """

    mr_effect = "the receive-coil bias field"

    def __init__(self, field_strength_t=(1.5, 3.0), amplitude=None, coefficients=None, order: int = 3,
                 p: float = 1.0) -> None:
        super().__init__(p=p)
        self.field_strength_t = check_range(field_strength_t, "field_strength_t", low=0.05, high=14.0)
        self.amplitude = None if amplitude is None else check_range(amplitude, "amplitude", low=0, high=3)
        self.coefficients = None
        if coefficients is not None:
            lo, hi = check_range(coefficients, "coefficients", low=-5, high=5)
            if lo == hi and not isinstance(coefficients, (tuple, list)):
                lo, hi = -abs(lo), abs(lo)
            self.coefficients = (lo, hi)
        self.order = check_number(order, "order", low=1, high=5, integer=True)

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        nd = medical_layout(sample).spatial_ndim
        exps = [list(e) for e in monomial_exponents(nd, self.order)]
        if self.coefficients is not None:  # the raw model
            return {"order": self.order, "exponents": exps,
                    "coefficients": [sample_uniform(rng, self.coefficients) for _ in exps]}
        b0 = sample_uniform(rng, self.field_strength_t)
        amplitude = sample_uniform(rng, self.amplitude if self.amplitude is not None else amplitude_range(b0))
        shape = [float(rng.uniform(-1.0, 1.0)) for _ in exps]
        coefficients = scale_to_amplitude(exps, shape, nd, amplitude)
        return {"order": self.order, "exponents": exps + [[0] * nd], "coefficients": coefficients,
                "field_strength_t": b0, "amplitude": amplitude}

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        field = log_field(ctx.layout.spatial_shape, [tuple(e) for e in params["exponents"]], params["coefficients"])
        np.exp(field, out=field)
        work = to_float(image)
        work *= field.astype(work.dtype, copy=False)
        return work
