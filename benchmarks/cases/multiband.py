"""Core transforms on multiband / 16-bit images, against Albumentations 2.0.8 where it has one.

Inputs are real rasters from ``../shared/data/satellite`` (read with rasterio when it is
installed): ``RGBA.uint16.tif`` (634×411, 4 bands uint16, rasterio test data, CC0) and
``scg_s2_12band_clean.tif`` (256×256, 12-band Sentinel-2 float32 reflectance); full
runs also use both mirrored out to 1024×1024. Synthetic stand-ins are used when the
files are absent. Besides the time, every case records what the peer does to the data
(raises, changes the dtype, caps the range at 255, …) as a note: speed only counts
when the output is still the same kind of data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness import Case

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "satellite"


def _read(name: str) -> np.ndarray | None:
    try:
        import rasterio

        with rasterio.open(DATA / name) as src:
            return np.ascontiguousarray(np.moveaxis(src.read(), 0, -1))
    except Exception:  # rasterio missing or file absent: synthetic stand-in
        return None


def images(quick: bool) -> list[tuple[str, np.ndarray]]:
    u16 = _read("RGBA.uint16.tif")
    if u16 is None:
        yy, xx = np.mgrid[0:411, 0:634]
        u16 = np.stack([(yy * 7 + xx * b * 3) % 12000 for b in range(1, 5)], -1).astype(np.uint16)
    f32 = _read("scg_s2_12band_clean.tif")
    if f32 is None:
        yy, xx = np.mgrid[0:256, 0:256] / 256.0
        f32 = np.stack([0.1 + 0.05 * b * np.sin(6 * xx + b) * np.cos(5 * yy) ** 2 for b in range(12)], -1)
        f32 = f32.astype(np.float32)
    out = [(f"{u16.shape[0]}x{u16.shape[1]}x4 uint16", u16), (f"{f32.shape[0]}x{f32.shape[1]}x12 float32", f32)]
    if not quick:
        for arr in (u16, f32):
            big = np.pad(arr, [(0, max(0, 1024 - arr.shape[0])), (0, max(0, 1024 - arr.shape[1])), (0, 0)],
                         mode="symmetric")[:1024, :1024]
            out.append((f"1024x1024x{arr.shape[2]} {arr.dtype}", np.ascontiguousarray(big)))
    return out


PAIRS = [
    ("Flip", ("core.Flip", {}), lambda A, im: A.HorizontalFlip(p=1.0)),
    ("Rotate90", ("core.Rotate90", {}), lambda A, im: A.RandomRotate90(p=1.0)),
    ("BrightnessContrast", ("core.BrightnessContrast", {}), lambda A, im: A.RandomBrightnessContrast(p=1.0)),
    ("Gamma", ("core.Gamma", {}), lambda A, im: A.RandomGamma(p=1.0)),
    ("GaussianBlur", ("core.GaussianBlur", {"sigma_px": (1.0, 2.0)}),
     lambda A, im: A.GaussianBlur(blur_limit=(0, 0), sigma_limit=(1.0, 2.0), p=1.0)),
    ("MotionBlur", ("core.MotionBlur", {"length_px": (7, 15)}), lambda A, im: A.MotionBlur(blur_limit=(7, 15), p=1.0)),
    ("GaussianNoise", ("core.GaussianNoise", {"sigma": (0.02, 0.06)}),
     lambda A, im: A.GaussNoise(std_range=(0.02, 0.06), p=1.0)),
    ("JPEGCompression", ("core.JPEGCompression", {"quality": (30, 70)}),
     lambda A, im: A.ImageCompression(quality_range=(30, 70), p=1.0)),
    ("CoarseDropout", ("core.CoarseDropout", {}), lambda A, im: A.CoarseDropout(p=1.0)),
    ("Affine", ("core.Affine", {"rotate_deg": (-30, 30), "scale": (0.9, 1.1), "shear_deg": 0}),
     lambda A, im: A.Affine(rotate=(-30, 30), scale=(0.9, 1.1), p=1.0)),
    ("Resize-half", ("core.Resize", {"scale": 0.5}),
     lambda A, im: A.Resize(im.shape[0] // 2, im.shape[1] // 2, p=1.0)),
    ("RandomCrop", ("core.RandomCrop", {}), lambda A, im: A.RandomCrop(im.shape[0] // 2, im.shape[1] // 2, p=1.0)),
    ("ElasticDeformation", ("core.ElasticDeformation", {}), lambda A, im: A.ElasticTransform(p=1.0)),
]


#: Peer ops checked for data damage only (no same-work domaug case); noted on the named case.
PEER_ONLY = {"Resize-half": ("Downscale", lambda A, im: A.Downscale(scale_range=(0.5, 0.5), p=1.0))}


def peer_problem(image: np.ndarray, out) -> str:
    """What the peer did to the data, in words ('' when dtype, shape and range look right)."""
    if not isinstance(out, np.ndarray):
        return f"returned {type(out).__name__}"
    problems = []
    if out.dtype != image.dtype:
        problems.append(f"dtype {image.dtype}→{out.dtype}")
    if out.ndim != image.ndim or out.shape[-1] != image.shape[-1]:
        problems.append(f"shape {image.shape}→{out.shape}")
    if np.issubdtype(out.dtype, np.floating) and not np.isfinite(out).all():
        problems.append("non-finite values")
    in_max, out_max = float(np.max(image)), float(np.max(out))
    if in_max > 255 and out_max <= 255:
        problems.append(f"range capped at 255 (input max {in_max:g})")
    elif in_max > 1.5 * max(out_max, 1e-9) and out_max <= 1.0:
        problems.append(f"range squeezed to ≤1 (input max {in_max:g})")
    return ", ".join(problems)


def _ours(name: str, image: np.ndarray, **params):
    import domaug

    if name == "core.RandomCrop":
        params = {"height": image.shape[0] // 2, "width": image.shape[1] // 2}
    t = domaug.get_transform(name, **params)
    rng = np.random.default_rng(0)
    return lambda: t(image=image, rng=rng)


def cases(quick: bool = False) -> list[Case]:
    try:
        import albumentations as A
    except ImportError:
        A = None
    out = []
    for size, image in images(quick):
        for label, (name, params), make_peer in PAIRS:
            try:
                ours = _ours(name, image, **params)
            except Exception as exc:  # a transform this checkout does not have (yet)
                print(f"multiband: skipping {label}: {type(exc).__name__}: {exc}")
                continue
            peers, note = {}, ""
            check = ours()["image"]
            if check.dtype != image.dtype:
                note = f"domaug changed dtype to {check.dtype}! "
            if A is not None and make_peer is not None:
                try:
                    peer = make_peer(A, image)
                    problem = peer_problem(image, peer(image=image)["image"])
                    peers["albumentations"] = (lambda f=peer, im=image: f(image=im))
                    if problem:
                        note += f"albumentations: {problem}"
                except Exception as exc:
                    note += f"albumentations fails: {type(exc).__name__}: {str(exc).splitlines()[0][:100] if str(exc) else ''}"
            if A is not None and label in PEER_ONLY:
                peer_name, make = PEER_ONLY[label]
                try:
                    problem = peer_problem(image, make(A, image)(image=image)["image"])
                    note += f" albumentations {peer_name}: {problem or 'ok'}"
                except Exception as exc:
                    note += f" albumentations {peer_name} fails: {type(exc).__name__}"
            out.append(Case(label, size, ours, peers, array=image, note=note.strip()))
    return out
