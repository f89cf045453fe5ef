"""core.JPEGCompression: real re-encoding, 8×8 blockiness, PSNR rising with quality."""

from __future__ import annotations

import numpy as np
import pytest

import domaug
from domaug.errors import ParameterError


def _scene(h=128, w=128):
    yy, xx = np.mgrid[0:h, 0:w]
    rng = np.random.default_rng(0)
    base = 128 + 60 * np.sin(xx / 7.0) * np.cos(yy / 11.0) + rng.normal(0, 6, (h, w))
    return np.clip(np.stack([base, base * 0.8 + 20, 255 - base], -1), 0, 255).astype(np.uint8)


def _psnr(a, b, peak):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * np.log10(peak**2 / mse)


def _blockiness(img):
    """Mean |horizontal step| across 8-px block edges divided by the mean step elsewhere."""
    g = np.abs(np.diff(img.astype(np.float64), axis=1))
    if g.ndim == 3:
        g = g.mean(-1)
    at_edges = g[:, 7::8].mean()
    inside = np.delete(g, np.s_[7::8], axis=1).mean()
    return at_edges / inside


def _smooth(h=128, w=128):
    yy, xx = np.mgrid[0:h, 0:w]
    base = 128 + 60 * np.sin(xx / 13.0) * np.cos(yy / 17.0)
    return np.clip(np.stack([base, base * 0.8 + 20, 255 - base], -1), 0, 255).astype(np.uint8)


def test_uint8_rgb_is_reencoded_with_blockiness():
    img = _smooth()
    assert _blockiness(img) < 1.05
    out = domaug.get_transform("core.JPEGCompression", quality=10)(image=img)["image"]
    assert out.dtype == np.uint8 and out.shape == img.shape
    assert np.any(out != img)
    assert _blockiness(out) > 2.0          # steps concentrate on the 8-px block grid


def test_psnr_increases_with_quality():
    img = _scene()
    psnr = [_psnr(domaug.get_transform("core.JPEGCompression", quality=q)(image=img)["image"], img, 255)
            for q in (10, 30, 60, 90)]
    assert all(a < b for a, b in zip(psnr, psnr[1:])), psnr


def test_uint16_adds_artefact_with_stretch_and_keeps_precision():
    img8 = _scene()[..., 0]
    img = (img8.astype(np.uint16) * 16 + 3)  # 12-bit data, values not multiples of the 8-bit step
    out = domaug.get_transform("core.JPEGCompression", quality=20)(image=img, meta={"bit_depth": 12})["image"]
    assert out.dtype == np.uint16 and out.max() <= 4095
    diff = out.astype(np.int32) - img
    assert np.any(diff != 0)
    # the artefact is 8-bit codec error rescaled by the stretch (range/255 ≈ 16 per level)
    psnr16 = _psnr(out, img, 4095)
    psnr8 = _psnr(domaug.get_transform("core.JPEGCompression", quality=20)(image=img8)["image"], img8, 255)
    assert abs(psnr16 - psnr8) < 3.0
    smooth = _smooth()[..., 0].astype(np.uint16) * 16 + 3
    out = domaug.get_transform("core.JPEGCompression", quality=10)(image=smooth, meta={"bit_depth": 12})["image"]
    assert _blockiness(smooth) < 1.05 and _blockiness(out) > 1.8


def test_multiband_and_float_and_volume():
    img = _scene()
    four = np.concatenate([img, img[..., :1]], -1).astype(np.float32) / 255
    out = domaug.get_transform("core.JPEGCompression", quality=20)(image=four)["image"]
    assert out.dtype == np.float32 and out.shape == four.shape and np.any(out != four)
    vol = np.stack([img[..., 0]] * 3).astype(np.float32)
    outv = domaug.get_transform("core.JPEGCompression", quality=20)(image=vol, meta={"spatial_ndim": 3})["image"]
    assert outv.shape == vol.shape
    np.testing.assert_allclose(outv[0], outv[1])  # identical slices, identical artefacts


def test_quality_validation():
    with pytest.raises(ParameterError, match="quality"):
        domaug.get_transform("core.JPEGCompression", quality=0)
    with pytest.raises(ParameterError, match="quality"):
        domaug.get_transform("core.JPEGCompression", quality=(50, 120))


@pytest.mark.parametrize("dtype,nodata", [(np.float32, float("nan")), (np.float32, -9999.0), (np.uint8, 0),
                                          (np.uint16, 65535)])
def test_nodata_contents_do_not_leak_into_valid_pixels(dtype, nodata):
    """Valid pixels sharing an 8×8 block with nodata come out the same whatever nodata holds."""
    rng = np.random.default_rng(2)
    hi = 1.0 if dtype == np.float32 else np.iinfo(dtype).max - 1
    image = (rng.uniform(0.2, 0.8, (20, 21, 3)) * hi).astype(dtype)
    valid = np.ones((20, 21), bool)
    valid[:, :5] = False
    valid[13:, 11:] = False
    a_img, b_img = image.copy(), image.copy()
    a_img[~valid] = nodata
    t = domaug.get_transform("core.JPEGCompression", quality=30)
    meta = {"nodata": nodata}
    a = t(image=a_img, valid=valid, meta=meta, rng=4)["image"]
    b = t(image=b_img, valid=valid, meta=meta, rng=4)["image"]
    np.testing.assert_array_equal(a[valid], b[valid])
    np.testing.assert_array_equal(a[~valid].view(np.uint8), a_img[~valid].view(np.uint8))  # bit-exact


@pytest.mark.parametrize("quality", [30, 70])
def test_colour_jpeg_is_an_rgb_jpeg_like_pillows(quality):
    # red detail on blue: a codec fed RGB as BGR would compute luma with red and blue swapped
    # and put the chroma loss on the wrong channels (tens of levels off Pillow's result)
    import io

    from PIL import Image

    from domaug.transforms.jpeg_compression import jpeg_roundtrip

    rng = np.random.default_rng(0)
    img = np.zeros((64, 96, 3), np.uint8)
    img[..., 2] = 200
    img[:, ::2, 0], img[:, ::2, 2] = 230, 40
    img = np.clip(img.astype(int) + rng.integers(-10, 10, img.shape), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(img).save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    reference = np.asarray(Image.open(buffer))
    assert np.abs(jpeg_roundtrip(img, quality).astype(int) - reference).mean() < 0.5
