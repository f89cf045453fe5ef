"""The noise of a CT image read from the image itself: a map of the local noise σ₀(x) (pure
kernels, no randomness).

Model: the standard deviation in small (~6 mm) neighbourhoods of soft tissue measures the
noise where the tissue is flat (the idea behind the "global noise level" of Christianson,
Winslow, Frush & Samei, AJR 205(1):W93–W99, 2015, cited from memory). Each block's SD is
taken about its least-squares plane (a slow ramp is anatomy, not noise). Edges only *add*
to a block's SD, so the flatter blocks nearby tell the noise: per 6 mm block, σ₀ is the
lower tercile of the SDs of the soft-tissue blocks within ±2 blocks (about 2.5 cm), kept
within a factor 2 of the whole image's lower tercile, smoothed and interpolated back to the
pixels. CT noise is not stationary (it grows behind bone and along the long lateral paths
through the shoulders), so a map rather than one number. On a pure-noise image the lower
tercile reads 2–4 % low; on a patient, residual texture reads high; neither is corrected.
On CT_small the map is within 10 % of the plane-detrended SD of uniform ROIs (aorta 14,
fat 19 HU) and 15 % under the streaky paraspinal muscle (30 HU).

Header values (CTDIvol, mAs, kVp) are not used: without the patient's size and the
reconstruction kernel they do not fix the image noise.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from domaug.kit import lazy_module

ndi = lazy_module("scipy.ndimage")

#: Soft tissue (block mean, HU) where the noise is measured: fat to enhanced blood.
SOFT_TISSUE_HU = (-150.0, 250.0)
#: Noise margin: a soft-tissue block has no pixel further than this outside :data:`SOFT_TISSUE_HU`.
MARGIN_HU = 150.0
#: Side of the blocks whose SD is measured, mm.
BLOCK_MM = 6.0
#: Neighbourhood (blocks either side) over which the flattest blocks are looked for.
REACH_BLOCKS = 2
#: Largest ratio of the local noise to the image's lower-quartile block SD (either way).
MAX_VARIATION = 2.0
#: Percentile of the neighbouring block SDs taken as the noise.
PERCENTILE = 33.0


def block_px(spacing_mm: Sequence[float]) -> int:
    """Block side in pixels (at least 4) covering about :data:`BLOCK_MM` in-plane."""
    px = float(np.sqrt(float(spacing_mm[-1]) * float(spacing_mm[-2])))
    return max(4, int(round(BLOCK_MM / max(px, 1e-6))))


def _blocks(x: np.ndarray, b: int) -> np.ndarray:
    """``x`` (..., H, W) reflect-padded to multiples of ``b``, as (..., H/b, W/b, b·b)."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % b, (-w) % b
    if ph or pw:
        pad = [(0, 0)] * (x.ndim - 2) + [(0, ph), (0, pw)]
        x = np.pad(x, pad, mode="reflect" if min(h, w) > max(ph, pw) else "edge")
    lead = x.shape[:-2]
    nh, nw = x.shape[-2] // b, x.shape[-1] // b
    y = x.reshape(lead + (nh, b, nw, b))
    y = np.moveaxis(y, -3, -2)  # (..., nh, nw, b, b)
    return y.reshape(lead + (nh, nw, b * b))


def detrended_sd(blocks: np.ndarray, b: int) -> np.ndarray:
    """SD of each ``b``×``b`` block (last axis, row-major) about its least-squares plane: a
    slow intensity ramp across the block (anatomy, enhancement, beam hardening) is not noise."""
    yy, xx = np.mgrid[0:b, 0:b]
    basis = np.stack([np.ones(b * b), yy.ravel() - (b - 1) / 2, xx.ravel() - (b - 1) / 2], axis=1)
    q, _ = np.linalg.qr(basis)  # orthonormal basis of the planes
    fitted = (blocks @ q) @ q.T
    dof = b * b - basis.shape[1]
    return np.sqrt(np.sum((blocks - fitted) ** 2, axis=-1) / dof)


def block_stats(image: np.ndarray, b: int, valid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per block: the SD about the block's plane, and whether the block is soft tissue (mean in :data:`SOFT_TISSUE_HU`,
    every pixel valid and within :data:`MARGIN_HU` of that range, i.e. no air, lung or bone inside)."""
    blocks = _blocks(np.asarray(image, dtype=np.float64), b)
    sd = detrended_sd(blocks, b)
    mean = blocks.mean(axis=-1)
    tissue = (mean > SOFT_TISSUE_HU[0]) & (mean < SOFT_TISSUE_HU[1])
    tissue &= (blocks.min(axis=-1) > SOFT_TISSUE_HU[0] - MARGIN_HU) & (blocks.max(axis=-1) < SOFT_TISSUE_HU[1] + MARGIN_HU)
    if valid is not None:
        tissue &= _blocks(valid.astype(np.float64), b).min(axis=-1) > 0.5
    return sd, tissue


def _neighbour_percentile(sd: np.ndarray, tissue: np.ndarray, reach: int, q: float) -> np.ndarray:
    """Per block, the ``q`` percentile of the tissue blocks' SD within ±``reach`` (NaN if none)."""
    values = np.where(tissue, sd, np.nan)
    pad = [(0, 0)] * (values.ndim - 2) + [(reach, reach), (reach, reach)]
    padded = np.pad(values, pad, constant_values=np.nan)
    nh, nw = values.shape[-2:]
    shifts = [padded[..., i:i + nh, j:j + nw] for i in range(2 * reach + 1) for j in range(2 * reach + 1)]
    stack = np.stack(shifts, axis=-1)
    out = np.full(values.shape, np.nan)
    have = np.isfinite(stack).any(axis=-1)
    if have.any():
        out[have] = np.nanpercentile(stack[have], q, axis=-1)
    return out


def _to_pixels(coarse: np.ndarray, b: int, shape: Sequence[int]) -> np.ndarray:
    """Block values → a smooth pixel map of ``shape`` (bilinear between block centres)."""
    lead = coarse.shape[:-2]
    nh, nw = coarse.shape[-2:]
    h, w = int(shape[-2]), int(shape[-1])
    rows = np.clip((np.arange(h) + 0.5) / b - 0.5, 0, nh - 1)
    cols = np.clip((np.arange(w) + 0.5) / b - 0.5, 0, nw - 1)
    r0, c0 = np.floor(rows).astype(int), np.floor(cols).astype(int)
    r1, c1 = np.minimum(r0 + 1, nh - 1), np.minimum(c0 + 1, nw - 1)
    fr, fc = (rows - r0)[:, None], (cols - c0)[None, :]
    out = ((1 - fr) * (1 - fc) * coarse[..., r0[:, None], c0[None, :]] + (1 - fr) * fc * coarse[..., r0[:, None], c1[None, :]]
           + fr * (1 - fc) * coarse[..., r1[:, None], c0[None, :]] + fr * fc * coarse[..., r1[:, None], c1[None, :]])
    return out.reshape(lead + (h, w)).astype(np.float32)


def noise_map(image: np.ndarray, spacing_mm: Sequence[float], valid: np.ndarray | None = None) -> tuple[np.ndarray, dict]:
    """The input's local noise σ₀(x) (HU, float32, the image's shape) and a summary.

    The summary ``{"sigma_hu", "method", "block_px", "n_blocks"}`` gives the median of σ₀
    over the soft-tissue blocks; ``method`` is ``"local_noise_map"``, or ``"none"`` (σ₀ = 0
    everywhere) when the image has no soft-tissue block.
    """
    b = block_px(spacing_mm)
    sd, tissue = block_stats(image, b, valid)
    n_blocks = int(tissue.sum())
    if n_blocks == 0:
        return np.zeros(image.shape, np.float32), {"sigma_hu": 0.0, "method": "none", "block_px": b, "n_blocks": 0}
    coarse = _neighbour_percentile(sd, tissue, REACH_BLOCKS, PERCENTILE)
    global_value = float(np.percentile(sd[tissue], PERCENTILE))
    coarse = np.where(np.isfinite(coarse), coarse, global_value)
    # noise maps of a body vary smoothly, by about 2× at most; blocks ringed by edges read higher
    np.clip(coarse, global_value / MAX_VARIATION, global_value * MAX_VARIATION, out=coarse)
    smooth = (0,) * (coarse.ndim - 2) + (1.0, 1.0)
    coarse = ndi.gaussian_filter(coarse, smooth, mode="nearest")
    summary = {"sigma_hu": float(np.median(coarse[tissue])), "method": "local_noise_map", "block_px": b,
               "n_blocks": n_blocks}
    return _to_pixels(coarse, b, image.shape), summary


def local_sd_map(noise: np.ndarray, spacing_mm: Sequence[float]) -> np.ndarray:
    """Smooth local SD (float32 pixel map) of a zero-mean noise field, by blocks as :func:`noise_map`."""
    b = block_px(spacing_mm)
    blocks = _blocks(np.asarray(noise, dtype=np.float64), b)
    var = np.mean(blocks * blocks, axis=-1)  # about zero, not detrended: the realization's own level
    smooth = (0,) * (var.ndim - 2) + (1.0, 1.0)
    var = ndi.gaussian_filter(var, smooth, mode="nearest")
    return np.sqrt(_to_pixels(var, b, noise.shape)).astype(np.float32)
