"""Input handling shared by all agriculture transforms: volumes refused, dtypes kept, gray frames."""
import numpy as np
import pytest

import domaug
from domaug.errors import UnsupportedInputError

NAMES = [n for n in domaug.list_transforms() if n.startswith("agriculture.")]
NEEDS_PLANTS = {"agriculture.SeasonShift", "agriculture.CropStage", "agriculture.SoilMoisture"}


@pytest.mark.parametrize("name", NAMES)
def test_volumes_are_refused_clearly(name):
    t = domaug.get_transform(name)
    vol = np.zeros((6, 16, 16), np.float32)
    with pytest.raises(UnsupportedInputError, match="2-D"):
        t(image=vol, meta={"spatial_ndim": 3}, rng=0)


@pytest.mark.parametrize("name", NAMES)
def test_gray_frames(name):
    t = domaug.get_transform(name)
    gray = np.random.default_rng(0).integers(0, 255, (32, 40)).astype(np.uint8)
    if name in NEEDS_PLANTS:
        with pytest.raises(UnsupportedInputError, match="band_names"):
            t(image=gray, rng=0)
    else:
        out = t(image=gray, rng=0)["image"]
        assert out.dtype == np.uint8 and out.ndim == 2


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
def test_dtypes_kept(name, dtype):
    from contract_samples import agri_rgb

    rgb, _ = agri_rgb(32, 40)
    img = rgb.astype(dtype) / (255.0 if np.issubdtype(dtype, np.floating) else 1)
    img = img.astype(dtype)
    out = domaug.get_transform(name)(image=img, rng=1)["image"]
    assert out.dtype == np.dtype(dtype)
    if np.issubdtype(dtype, np.floating):
        assert np.isfinite(out).all() and out.min() >= 0
