"""Generic transforms against Albumentations 2.0.8 on scikit-image's astronaut (RGB uint8)."""

from __future__ import annotations

import numpy as np

from harness import Case


def astronaut(size: int) -> np.ndarray:
    from skimage import data, transform

    img = data.astronaut()
    if size != img.shape[0]:
        img = (transform.resize(img, (size, size), order=1, anti_aliasing=True) * 255).round().astype(np.uint8)
    return np.ascontiguousarray(img)


def _ours(name: str, **params):
    import domaug

    t = domaug.get_transform(name, **params)
    rng = np.random.default_rng(0)
    return lambda image: t(image=image, rng=rng)


def _albu(make):
    try:
        import albumentations as A
    except ImportError:
        return None
    t = make(A)
    return lambda image: t(image=image)


PAIRS = [
    ("Flip", ("core.Flip", {}), lambda A: A.HorizontalFlip(p=1.0)),
    ("BrightnessContrast", ("core.BrightnessContrast", {}), lambda A: A.RandomBrightnessContrast(p=1.0)),
    ("BrightnessContrast-black", ("core.BrightnessContrast", {"pivot": "black"}),
     lambda A: A.RandomBrightnessContrast(p=1.0)),
    ("Gamma", ("core.Gamma", {}), lambda A: A.RandomGamma(p=1.0)),
    ("Affine", ("core.Affine", {"rotate_deg": (-30, 30), "scale": (0.9, 1.1), "shear_deg": 0}),
     lambda A: A.Affine(rotate=(-30, 30), scale=(0.9, 1.1), p=1.0)),
    ("Resize-half", ("core.Resize", {"scale": 0.5, "antialias": False}), None),  # size-specific peers below
    ("Resize-half-antialias", ("core.Resize", {"scale": 0.5}), None),
    ("GaussianBlur", ("core.GaussianBlur", {"sigma_px": (1.0, 2.0)}),
     lambda A: A.GaussianBlur(blur_limit=(0, 0), sigma_limit=(1.0, 2.0), p=1.0)),
    ("MotionBlur", ("core.MotionBlur", {"length_px": (7, 15)}), lambda A: A.MotionBlur(blur_limit=(7, 15), p=1.0)),
    ("MotionBlur-aliased", ("core.MotionBlur", {"length_px": (7, 15), "antialias": False}),
     lambda A: A.MotionBlur(blur_limit=(7, 15), direction_range=(0.0, 0.0), allow_shifted=False, p=1.0)),
    ("GaussianNoise", ("core.GaussianNoise", {"sigma": (0.02, 0.06)}),
     lambda A: A.GaussNoise(std_range=(0.02, 0.06), p=1.0)),
    ("JPEGCompression", ("core.JPEGCompression", {"quality": (30, 70)}),
     lambda A: A.ImageCompression(quality_range=(30, 70), p=1.0)),
    ("ElasticDeformation", ("core.ElasticDeformation", {}), None),  # size-matched params below
]


#: Cases that run only once the core has the transform (the issue lists ColorJitter/HSV).
OPTIONAL = [
    ("ColorJitter", ("core.ColorJitter", {}), lambda A: A.ColorJitter(p=1.0)),
    ("HueSaturationValue", ("core.HueSaturationValue", {}), lambda A: A.HueSaturationValue(p=1.0)),
]

NOTES = {
    "MotionBlur": "domaug default: anti-aliased line PSF (two taps per pixel step, exact sub-pixel "
                  "direction and length); peer: a 1-px line drawn by OpenCV (one tap per step)",
    "BrightnessContrast": "domaug default: contrast about the image mean (one extra read of the image); "
                          "peer: a gain about black",
    "BrightnessContrast-black": "same work: a gain about black (pivot='black') and an offset, one lookup table",
    "MotionBlur-aliased": "same work: one tap per step (antialias=False) vs the peer's drawn line, both "
                          "centred and symmetric (peer direction_range=(0, 0), allow_shifted=False: its "
                          "default biases the direction, which shortens the line by a quarter on average, "
                          "8.3 taps against 10.5); domaug's ends spread over the pixel aperture (+1.2 taps)",
    "JPEGCompression": "both libjpeg via OpenCV; the peer hands RGB to OpenCV as BGR, so the codec's YCbCr "
                       "uses swapped red/blue weights (chroma loss lands on the wrong channels); domaug "
                       "swaps to BGR first (byte-identical to Pillow's RGB JPEG)",
    "Resize-half": "same work: bilinear, no prefilter (cv2 INTER_LINEAR; 2× = 2×2 mean)",
    "Resize-half-antialias": "same work: pixel-area integration (domaug default; peer area_for_downscale, "
                             "both cv2 INTER_AREA)",
    "ElasticDeformation": "same field: peer default alpha=1, sigma=50 (peak ≈0.16 px at 512², 0.07 at "
                          "1024²); domaug max_displacement_px = that peak, control spacing √3·50 px "
                          "(same correlation length)",
}


def elastic_like_albumentations(size: int, alpha: float = 1.0, sigma: float = 50.0) -> dict:
    """ElasticDeformation params giving Albumentations 2.0.8 ElasticTransform's field.

    Theirs: N(0,1) noise divided by its max |value| (≈ 4.9 for 512²), blurred with a
    Gaussian of ``sigma`` px, times ``alpha`` px: peak ≈ 0.16 px at 512² (alpha=1, sigma=50;
    measured on their code: 0.158 px at 512², 0.073 px at 1024²), i.e. barely visible.
    Same peak here; a cubic B-spline control grid with spacing √3·sigma has the same
    correlation length (autocorrelation variance 2σ² ⇔ 2/3·h²).
    """
    peak = {512: 0.158, 1024: 0.073}.get(size, 0.158 * 512 / size) * alpha
    n_control = max(4, int(round(size / (3 ** 0.5 * sigma))) + 1)
    return {"max_displacement_px": peak, "n_control": n_control}


def _registered(name: str) -> bool:
    import domaug

    try:
        domaug.get_transform(name)
    except Exception:
        return False
    return True


def cases(quick: bool = False) -> list[Case]:
    out = []
    pairs = PAIRS + [p for p in OPTIONAL if _registered(p[1][0])]
    for size in ([512] if quick else [512, 1024]):
        image = astronaut(size)
        for label, (name, params), peer in pairs:
            ours = _ours(name, **params)
            if label == "Resize-half":
                peer = lambda A, s=size: A.Resize(s // 2, s // 2, p=1.0)  # noqa: E731
            elif label == "Resize-half-antialias":
                peer = lambda A, s=size: A.Resize(s // 2, s // 2, area_for_downscale="image", p=1.0)  # noqa: E731
            elif label == "ElasticDeformation":
                ours = _ours(name, **elastic_like_albumentations(size))
                peer = lambda A: A.ElasticTransform(p=1.0)  # noqa: E731
            peers = {}
            albu = _albu(peer) if peer is not None else None
            if albu is not None:
                peers["albumentations"] = (lambda f=albu, im=image: f(im))
            out.append(Case(label, f"{size}x{size}x3 uint8", lambda f=ours, im=image: f(im), peers, array=image,
                            note=NOTES.get(label, "")))
    return out
