"""Multiband / 16-bit images: every satellite and agriculture transform, and the core ones.

Plugin cases (every ``satellite.*`` / ``agriculture.*`` from ``domaug.list_transforms``, so
transforms added later are picked up; construction or input errors become case errors):

- **4-band uint16 1024²**: the real Landsat 8 L1 scene of ``../shared/data/satellite/
  landsat8_l1_cloudy`` (B2, B3, B4, B5 = blue, green, red, nir; 30 m UTM geotransform),
  mirrored out to 1024², with a slanted nodata (0) collar and ``valid`` as the GeoTIFF
  reader gives them;
- **12-band float32 reflectance**: ``scg_s2_12band_clean.tif`` (real Sentinel-2, 256²;
  mirrored to 1024² in full runs), Sentinel-2 band roles;
- **5-band uint16 1280×960** (agriculture only): the MicaSense RedEdge capture of
  ``../shared/data/agriculture/micasense_rededge`` stacked as blue, green, red, nir, rededge.

Each case reports ms and the memcpy ratio, and where Albumentations 2.0.8 has a nearest
op, times it and records in the note what it does to the data (raises, changes the
dtype, caps at 255, clips reflectance at 1, writes into nodata pixels, drops the
geotransform): speed only counts when the output is still the same kind of data.

Also: the noise-field builders alone (1024²), and in full runs the windowed processing of
a large tiled GeoTIFF in a fresh process (wall time, peak RSS; ``DOMAUG_BENCH_LARGE`` sets
the side, 20000 for the issue's 3.2 GB raster).

Core cases (the core transforms on the small real rasters ``RGBA.uint16.tif``, 634×411×4
uint16, and the 12-band patch; both mirrored to 1024² in full runs), with the same notes.
Synthetic stand-ins replace any file that is absent (the note says so).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from harness import Case

from cases.large_geotiff import large_case

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
SAT = DATA / "satellite"

S2_12 = ["coastal", "blue", "green", "red", "rededge1", "rededge2", "rededge3", "nir",
         "nir08", "watervapour", "swir1", "swir2"]
AGRI_BANDS = ["blue", "green", "red", "nir", "rededge"]


# --------------------------------------------------------------------------- inputs

def _read(path: Path) -> np.ndarray | None:
    """H×W×bands array of a raster, or None (rasterio missing or file absent)."""
    try:
        import warnings

        import rasterio

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # NotGeoreferencedWarning on raw camera frames
            with rasterio.open(path) as src:
                return np.ascontiguousarray(np.moveaxis(src.read(), 0, -1))
    except Exception:
        return None


def _mirror(arr: np.ndarray, h: int, w: int) -> np.ndarray:
    big = np.pad(arr, [(0, max(0, h - arr.shape[0])), (0, max(0, w - arr.shape[1])), (0, 0)], mode="symmetric")
    return np.ascontiguousarray(big[:h, :w])


def _synthetic(h: int, w: int, bands: int, seed: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    return np.stack([0.1 + 0.04 * (b + 1) * (1 + np.sin(9 * xx + b) * np.cos(7 * yy + seed)) for b in range(bands)], -1)


def landsat4(size: int = 1024) -> tuple[dict, bool]:
    """4-band uint16 Landsat 8 DN (blue, green, red, nir) with a nodata collar, geotransform."""
    bands = [_read(SAT / "landsat8_l1_cloudy" / f"l8_B{k}.tif") for k in (2, 3, 4, 5)]
    real = all(b is not None for b in bands)
    arr = np.concatenate(bands, -1) if real else (_synthetic(603, 627, 4, 1) * 60000).astype(np.uint16)
    image = _mirror(arr, size, size)
    yy, xx = np.mgrid[0:size, 0:size]
    valid = (xx > 40 + 0.08 * yy) & (yy < size - 24)  # slanted scene edge, as a Landsat collar
    image[~valid] = 0
    image[valid[..., None] & (image == 0)] = 1
    meta = {"nodata": 0, "transform": [452475.0, 30.0, 0.0, 3408645.0, 0.0, -30.0], "crs": "EPSG:32616",
            "band_names": ["blue", "green", "red", "nir"]}
    return {"image": image, "valid": valid, "meta": meta}, real


def s2_12(size: int | None) -> tuple[dict, bool]:
    """12-band float32 Sentinel-2 reflectance (real 256² patch, mirrored to ``size``)."""
    arr = _read(SAT / "scg_s2_12band_clean.tif")
    real = arr is not None
    if not real:
        arr = _synthetic(256, 256, 12, 2).astype(np.float32)
    if size:
        arr = _mirror(arr, size, size)
    meta = {"transform": [17.287359, 8.983153e-05, 0.0, 48.856853, 0.0, -8.983153e-05], "crs": "EPSG:4326",
            "band_names": list(S2_12)}
    return {"image": arr.astype(np.float32), "meta": meta}, real


def micasense5() -> tuple[dict, bool]:
    """5-band uint16 MicaSense RedEdge frame, 1280×960, bands blue, green, red, nir, rededge."""
    bands = [_read(DATA / "agriculture" / "micasense_rededge" / f"IMG_0001_{k}.tif") for k in range(1, 6)]
    real = all(b is not None for b in bands)
    arr = np.concatenate(bands, -1) if real else (_synthetic(960, 1280, 5, 3) * 60000).astype(np.uint16)
    meta = {"band_names": list(AGRI_BANDS), "gsd_m": 0.03, "black_level": 4800,  # as the capture format reads it
            "wavelengths_nm": [475.0, 560.0, 668.0, 840.0, 717.0]}
    return {"image": np.ascontiguousarray(arr), "meta": meta}, real


# --------------------------------------------------------------------------- what a peer does to the data

def peer_problem(image: np.ndarray, out, valid: np.ndarray | None = None, same_shape: bool = True) -> str:
    """What the peer did to the data, in words ('' when dtype, shape, range and nodata look right).

    ``same_shape=False`` for ops that are meant to change the grid (Resize, RandomCrop):
    then only the band count must be kept.
    """
    if not isinstance(out, np.ndarray):
        return f"returned {type(out).__name__}"
    problems = []
    if out.dtype != image.dtype:
        problems.append(f"dtype {image.dtype}→{out.dtype}")
    if (out.shape != image.shape) if same_shape else (out.shape[2:] != image.shape[2:]):
        problems.append(f"shape {image.shape}→{out.shape}")
        return ", ".join(problems)
    if out.shape != image.shape:
        valid = None  # nodata positions moved with the grid
    if np.issubdtype(out.dtype, np.floating) and not np.isfinite(out).all():
        problems.append("non-finite values")
    in_max, out_max = float(np.max(image)), float(np.max(out))
    if in_max > 255 and out_max <= 255:
        problems.append(f"range capped at 255 (input max {in_max:g})")
    elif np.issubdtype(image.dtype, np.floating) and in_max > 1.0 and out_max <= 1.0 + 1e-6:
        problems.append(f"reflectance clipped at 1 (input max {in_max:.2f})")
    if valid is not None and (~valid).any():
        changed = np.any(out[~valid] != image[~valid], axis=-1).mean() if out.ndim == 3 else 0.0
        if changed > 0:
            problems.append(f"{100 * changed:.1f} % of nodata pixels overwritten")
    return ", ".join(problems)


def _err(exc: Exception) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0][:140] if str(exc) else ''}"


def _raiser(msg: str):
    def fail():
        raise RuntimeError(msg)

    return fail


# --------------------------------------------------------------------------- plugin cases

#: domaug transform -> (Albumentations op name, factory(A, image)); nearest counterpart only.
PLUGIN_PEERS = {
    "satellite.CloudCover": ("RandomFog", lambda A, im: A.RandomFog(p=1.0)),
    "satellite.Haze": ("RandomFog", lambda A, im: A.RandomFog(p=1.0)),
    "satellite.ResolutionChange": ("Downscale", lambda A, im: A.Downscale(scale_range=(0.5, 0.5), p=1.0)),
    "satellite.SensorNoise": ("GaussNoise", lambda A, im: A.GaussNoise(std_range=(0.01, 0.03), p=1.0)),
    "satellite.BandMisregistration": ("ChromaticAberration", lambda A, im: A.ChromaticAberration(p=1.0)),
    "satellite.Illumination": ("RandomBrightnessContrast", lambda A, im: A.RandomBrightnessContrast(p=1.0)),
    "satellite.Striping": ("GridDropout", lambda A, im: A.GridDropout(p=1.0)),
    "agriculture.AltitudeChange": ("Downscale", lambda A, im: A.Downscale(scale_range=(0.5, 0.5), p=1.0)),
    "agriculture.BandMisalignment": ("ChromaticAberration", lambda A, im: A.ChromaticAberration(p=1.0)),
    "agriculture.CloudShadow": ("RandomShadow", lambda A, im: A.RandomShadow(p=1.0)),
    "agriculture.FlightMotionBlur": ("MotionBlur", lambda A, im: A.MotionBlur(blur_limit=(7, 15), p=1.0)),
    "agriculture.SeasonShift": ("HueSaturationValue", lambda A, im: A.HueSaturationValue(p=1.0)),
    "agriculture.SunAngle": ("RandomBrightnessContrast", lambda A, im: A.RandomBrightnessContrast(p=1.0)),
    "agriculture.SoilMoisture": ("RandomBrightnessContrast", lambda A, im: A.RandomBrightnessContrast(p=1.0)),
}

#: What the nearest peer does not model at all (added to the note when the peer runs).
PEER_GAPS = {
    "satellite.CloudCover": "no shadows, no cloud_mask, band-blind",
    "satellite.Haze": "band-blind (no wavelength dependence)",
    "satellite.ResolutionChange": "same grid size back, no geotransform update",
    "agriculture.AltitudeChange": "same grid size back, no GSD/geotransform update",
    "satellite.Striping": "square holes, not detector gains/lines",
    "satellite.Illumination": "no sun-elevation / atmosphere model",
    "agriculture.SunAngle": "no sun geometry, no vignetting",
    "agriculture.SoilMoisture": "darkens plants too, band-blind",
    "agriculture.CloudShadow": "hard-edged polygon, band-blind",
}


def plugin_images(quick: bool) -> list[tuple[str, dict, tuple[str, ...], bool]]:
    out = []
    sample, real = landsat4(1024)
    out.append(("1024x1024x4 uint16 Landsat", sample, ("satellite", "agriculture"), real))
    sample, real = s2_12(None if quick else 1024)
    h, w = sample["image"].shape[:2]
    out.append((f"{w}x{h}x12 float32 S2", sample, ("satellite", "agriculture"), real))
    sample, real = micasense5()
    h, w = sample["image"].shape[:2]
    out.append((f"{w}x{h}x5 uint16 MicaSense", sample, ("agriculture",), real))
    return out


def plugin_cases(quick: bool, A) -> list[Case]:
    import domaug

    out = []
    for size, sample, domains, real in plugin_images(quick):
        image = sample["image"]
        for domain in domains:
            for name in domaug.list_transforms(domain):
                note = "" if real else "synthetic stand-in (shared data absent)"
                try:
                    t = domaug.get_transform(name)
                    rng = np.random.default_rng(0)
                    ours = (lambda t=t, rng=rng, s=sample: t(rng=rng, **s))
                    res = ours()
                    if res["image"].dtype != image.dtype:
                        note += f" domaug changed dtype to {res['image'].dtype}!"
                    valid = sample.get("valid")
                    if valid is not None and res["image"].shape == image.shape and (~valid).any():
                        if np.any(res["image"][~valid] != image[~valid]):
                            note += " domaug changed nodata pixels!"
                except Exception as exc:  # transform being written, or refuses this input: a result
                    ours = _raiser(_err(exc))
                peers = {}
                if A is not None and name in PLUGIN_PEERS:
                    op, make = PLUGIN_PEERS[name]
                    try:
                        peer = make(A, image)
                        problem = peer_problem(image, peer(image=image)["image"], sample.get("valid"))
                        peers["albumentations"] = (lambda f=peer, im=image: f(image=im))
                        gap = PEER_GAPS.get(name, "")
                        note += f" A.{op}: " + (", ".join(x for x in (problem, gap) if x) or "ok")
                    except Exception as exc:
                        note += f" A.{op} fails: {_err(exc)}"
                out.append(Case(name, size, ours, peers, array=image, note=note.strip()))
    return out


# --------------------------------------------------------------------------- core cases

def core_images(quick: bool) -> list[tuple[str, np.ndarray]]:
    u16 = _read(SAT / "RGBA.uint16.tif")
    if u16 is None:
        u16 = (_synthetic(411, 634, 4, 4) * 60000).astype(np.uint16)
    f32, _ = s2_12(None)
    f32 = f32["image"]
    out = [(f"{u16.shape[1]}x{u16.shape[0]}x4 uint16", u16), (f"{f32.shape[1]}x{f32.shape[0]}x12 float32", f32)]
    if not quick:
        for arr in (u16, f32):
            out.append((f"1024x1024x{arr.shape[2]} {arr.dtype}", _mirror(arr, 1024, 1024)))
    return out


CORE_PAIRS = [
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


#: Core cases whose output grid differs from the input's by design.
GRID_CHANGING = frozenset({"Resize-half", "RandomCrop"})


def core_cases(quick: bool, A) -> list[Case]:
    import domaug

    out = []
    for size, image in core_images(quick):
        for label, (name, params), make_peer in CORE_PAIRS:
            note = ""
            try:
                if name == "core.RandomCrop":
                    params = {"height": image.shape[0] // 2, "width": image.shape[1] // 2}
                t = domaug.get_transform(name, **params)
                rng = np.random.default_rng(0)
                ours = (lambda t=t, rng=rng, im=image: t(image=im, rng=rng))
                check = ours()["image"]
                if check.dtype != image.dtype:
                    note = f"domaug changed dtype to {check.dtype}! "
            except Exception as exc:  # a transform this checkout does not have (yet)
                ours = _raiser(_err(exc))
            peers = {}
            if A is not None and make_peer is not None:
                try:
                    peer = make_peer(A, image)
                    problem = peer_problem(image, peer(image=image)["image"], same_shape=label not in GRID_CHANGING)
                    peers["albumentations"] = (lambda f=peer, im=image: f(image=im))
                    if problem:
                        note += f"albumentations: {problem}"
                except Exception as exc:
                    note += f"albumentations fails: {_err(exc)}"
            if A is not None and label in PEER_ONLY:
                peer_name, make = PEER_ONLY[label]
                try:
                    problem = peer_problem(image, make(A, image)(image=image)["image"])
                    note += f" albumentations {peer_name}: {problem or 'ok'}"
                except Exception as exc:
                    note += f" albumentations {peer_name} fails: {type(exc).__name__}"
            out.append(Case(f"core.{label}", size, ours, peers, array=image, note=note.strip()))
    return out


# --------------------------------------------------------------------------- field builders

def field_cases(quick: bool) -> list[Case]:
    """The noise fields behind clouds, haze, shadows and soil texture (no peer)."""
    from domaug.ops import fields

    n = 1024
    ref = np.zeros((n, n), np.float32)
    return [
        Case("fields.fractal_noise", f"{n}x{n} float32", lambda: fields.fractal_noise((n, n), seed=1, scale_px=n / 8),
             array=ref, note="4 octaves; field only (clouds, haze, soil texture)"),
        Case("fields.smooth_field", f"{n}x{n} float32", lambda: fields.smooth_field((n, n), seed=1, correlation_px=20),
             array=ref, note="field only (gain drifts, illumination)"),
    ]


def cases(quick: bool = False) -> list[Case]:
    """Quick: plugin + core cases on the small/1024² inputs. Full: + 1024² core inputs and a
    windowed GeoTIFF of ``DOMAUG_BENCH_LARGE`` px a side (default 8192; 20000 = the issue's
    3.2 GB raster, ~4 min; 0 skips it)."""
    os.environ.setdefault("DOMAUG_NUM_THREADS", "1")  # single thread, like the peers
    try:
        import albumentations as A
    except ImportError:
        A = None
    out = plugin_cases(quick, A) + field_cases(quick) + core_cases(quick, A)
    large = int(os.environ.get("DOMAUG_BENCH_LARGE", "8192"))
    if not quick and large > 0:
        out.append(large_case(large))
    return out
