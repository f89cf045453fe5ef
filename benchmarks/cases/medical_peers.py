"""Peers of the medical benchmark (TorchIO 1.2.1, MONAI 1.6.1): factories and input conversion.

Split from :mod:`cases.medical`; each factory builds a peer transform with parameters
matched to domaug's (see ``NOTES`` there).
"""

from __future__ import annotations

import numpy as np


def _tio():
    try:
        import torchio

        return torchio
    except Exception:
        return None


def _monai():
    try:
        import monai.transforms

        return monai.transforms
    except Exception:
        return None


def monai_elastic_magnitude(sigma: float, target_max: float, n: int = 96) -> float:
    """MONAI's Rand3DElastic multiplies a Gaussian-smoothed U(−1,1) field by `magnitude`
    (voxels): pick the magnitude whose field has the given maximum (like TorchIO's 7.5 mm)."""
    from scipy import ndimage

    u = np.random.default_rng(0).uniform(-1, 1, (n, n, n)).astype(np.float32)
    return float(target_max / np.abs(ndimage.gaussian_filter(u, sigma, truncate=3.0)).max())


ELASTIC_MM = 7.5  # TorchIO's default max_displacement (mm), 7 control points
MONAI_SIGMA = 8.0  # voxels; a correlation length comparable to 7 control points over 128 voxels


def _peer_factories(ndim: int):
    """name -> {peer: factory(image_array) -> transform-on-prepared-input} for matched pairs."""
    tio, mt = _tio(), _monai()
    p: dict[str, dict] = {}

    def add(name, peer, make):
        if make is not None:
            p.setdefault(name, {})[peer] = make

    if tio is not None:
        disp = ELASTIC_MM if ndim == 3 else (ELASTIC_MM, ELASTIC_MM, 0.0)
        add("ElasticDeformation", "torchio", lambda: tio.RandomElasticDeformation(
            num_control_points=7, max_displacement=disp))
        add("BiasField", "torchio", lambda: tio.RandomBiasField(coefficients=0.3, order=3))
        add("Motion", "torchio", lambda: tio.RandomMotion(degrees=5, translation=5, num_transforms=2))
        add("Ghosting", "torchio", lambda: tio.RandomGhosting(num_ghosts=(4, 10), intensity=(0.5, 0.95)))
        add("Spike", "torchio", lambda: tio.RandomSpike(num_spikes=(1, 1)))  # a bare 1 means 0–1 spikes
        add("Blur", "torchio", lambda: tio.RandomBlur(std=(0.2, 0.85)))  # FWHM 0.5–2 mm = σ 0.21–0.85 mm
        if ndim == 3:
            add("SliceThickness", "torchio", lambda: tio.RandomAnisotropy(axes=(0,), downsampling=(3, 6)))
    if mt is not None:
        if ndim == 3:
            mag = monai_elastic_magnitude(MONAI_SIGMA, ELASTIC_MM)
            add("ElasticDeformation", "monai", lambda: mt.Rand3DElastic(
                sigma_range=(MONAI_SIGMA, MONAI_SIGMA), magnitude_range=(mag, mag), prob=1.0,
                padding_mode="zeros"))
        else:
            add("ElasticDeformation", "monai", lambda: mt.Rand2DElastic(
                spacing=(256 / 6, 256 / 6), magnitude_range=(2.5, 2.5), prob=1.0, padding_mode="zeros"))
        add("RicianNoise", "monai", lambda: mt.RandRicianNoise(prob=1.0, std=0.03 * 700, sample_std=False))
        add("BiasField", "monai", lambda: mt.RandBiasField(degree=3, coeff_range=(0.0, 0.3), prob=1.0))
        add("GibbsRinging", "monai", lambda: mt.GibbsNoise(alpha=0.5))
        add("Spike", "monai", lambda: mt.RandKSpaceSpikeNoise(prob=1.0))
        add("Blur", "monai", lambda: mt.RandGaussianSmooth(sigma_x=(0.2, 0.85), sigma_y=(0.2, 0.85),
                                                           sigma_z=(0.2, 0.85), prob=1.0))
    return p


def _prepare(peer: str, image: np.ndarray):
    """Input in the peer's own type, built once (outside the timed call)."""
    import torch

    arr = image if image.ndim == 3 else image[:, :, None]  # TorchIO wants 4-D (C, W, H, D)
    if peer == "torchio":
        return _tio().ScalarImage(tensor=torch.from_numpy(np.ascontiguousarray(arr[None])))
    return torch.from_numpy(np.ascontiguousarray(image[None]))  # MONAI: (C, spatial...)
