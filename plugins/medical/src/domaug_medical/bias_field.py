"""medical.BiasField: smooth multiplicative intensity inhomogeneity of MR (RF coil sensitivity)."""

from __future__ import annotations

from itertools import product
from typing import Any, Mapping

import numpy as np

from domaug.kit import Context, PixelTransform, check_number, check_range, sample_uniform, to_float

from ._base import MedicalMixin, medical_layout


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


class BiasField(MedicalMixin, PixelTransform):
    """MR bias field: a smooth multiplicative intensity inhomogeneity (coil sensitivity, B1).

    Model: ``I' = I · exp(Σ c_ijk x^i y^j z^k)``, a low-order polynomial log-field on coordinates
    scaled to [−1, 1] (the model behind N4/N3 bias correction, Sled et al., IEEE TMI 1998;
    TorchIO RandomBiasField uses the same form). Mean-free in the log domain except for its
    low-order shape; the result is multiplicative, so ratios of tissues are kept locally.

    Parameters
    ----------
    coefficients : float or (low, high)
        Each coefficient is drawn in (−c, c) for a scalar c, or in (low, high). Default 0.3.
    order : int
        Polynomial order (1–5). Default 3.
    p : float
        Probability of applying.

    Targets: image (2-D or 3-D). Other targets pass through.
    """

    def __init__(self, coefficients=0.3, order: int = 3, p: float = 1.0) -> None:
        super().__init__(p=p)
        lo, hi = check_range(coefficients, "coefficients", low=-5, high=5)
        if lo == hi and not isinstance(coefficients, (tuple, list)):
            lo, hi = -abs(lo), abs(lo)
        self.coefficients = (lo, hi)
        self.order = check_number(order, "order", low=1, high=5, integer=True)

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        nd = medical_layout(sample).spatial_ndim
        exps = monomial_exponents(nd, self.order)
        return {"order": self.order, "exponents": [list(e) for e in exps],
                "coefficients": [sample_uniform(rng, self.coefficients) for _ in exps]}

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        field = log_field(ctx.layout.spatial_shape, [tuple(e) for e in params["exponents"]], params["coefficients"])
        np.exp(field, out=field)
        work = to_float(image)
        work *= field.astype(work.dtype, copy=False)
        return work
