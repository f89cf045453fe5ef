"""Masked copies (OpenCV and numpy paths bit-identical) and the finishing that keeps pixels and bands untouched."""

import numpy as np
import pytest

import domaug
from domaug.kit import Context, PixelTransform
from domaug.ops import masked


@pytest.mark.parametrize("dtype,channels", [(np.uint16, 5), (np.float32, 12), (np.uint8, 4), (np.float64, 1)])
def test_masked_copies_are_bit_identical_on_both_paths(path, dtype, channels):
    rng = np.random.default_rng(4)
    shape = (33, 41) + ((channels,) if channels > 1 else ())
    src = (rng.random(shape) * 200).astype(dtype)
    keep = rng.random((33, 41)) > 0.4
    dst = np.zeros_like(src)
    masked.copy_where(dst, src, keep)
    expected = np.where(keep[..., None] if src.ndim == 3 else keep, src, 0)
    for got in (dst, masked.masked_copy(src, keep)):
        np.testing.assert_array_equal(got, expected)
        assert got.dtype == src.dtype
    if src.ndim == 3:
        value = src[~keep][0, 0]  # a value that sits in a pixel outside keep
        assert masked.any_valid_hit(src, value, keep) == bool((src[keep] == value).any())
        assert masked.any_valid_hit(src, src[keep][0, 0], keep)


class _Brighten(PixelTransform):
    """Doubles every value except the untouched pixels and bands (a test transform)."""

    def prepare(self, sample, params):
        ctx = super().prepare(sample, params)
        ctx.untouched = np.zeros(ctx.layout.spatial_shape, bool)
        ctx.untouched[:, :3] = True
        ctx.untouched_bands = (3,)
        return ctx

    def apply_to_image(self, image, params, ctx):
        return image.astype(np.float32) * 2 + 1


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_untouched_pixels_and_bands_come_back_bit_exact(dtype):
    rng = np.random.default_rng(9)
    image = (10 + rng.random((12, 10, 4)) * 90).astype(dtype)  # valid values stay off nodata (7)
    valid = np.ones((12, 10), bool)
    valid[-1] = False
    image[-1] = 7
    out = _Brighten().apply({"image": image, "valid": valid, "meta": {"nodata": 7}}, {})["image"]
    assert out.dtype == dtype and out.shape == image.shape
    np.testing.assert_array_equal(out[:, :3], image[:, :3])  # untouched pixels
    np.testing.assert_array_equal(out[..., 3], image[..., 3])  # the untouched band (alpha)
    np.testing.assert_array_equal(out[-1], image[-1])  # nodata
    changed = out[:-1, 3:, :3].astype(float)
    np.testing.assert_allclose(changed, image[:-1, 3:, :3].astype(float) * 2 + 1, rtol=1e-6)
    assert (out[:-1, 3:, :3] != 7).all()  # no valid pixel lands on the nodata value


def test_an_hxwx1_working_copy_of_an_hxw_image_comes_home_hxw():
    class Plane(PixelTransform):
        def apply_to_image(self, image, params, ctx: Context):
            return image[..., None].astype(np.float32)

    image = np.arange(20, dtype=np.uint8).reshape(4, 5)
    out = domaug.register_transform(name="test.Plane")(Plane)
    try:
        np.testing.assert_array_equal(out()(image=image)["image"], image)
    finally:
        domaug.registry.unregister_transform("test.Plane")
