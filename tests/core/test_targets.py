import numpy as np
import pytest

import domaug
from domaug.errors import TargetError
from domaug.targets import kind_of, layout_of, valid_of, validate_sample


def test_unknown_target_errors_with_suggestion():
    with pytest.raises(TargetError, match="unknown target 'maks'.*did you mean mask"):
        domaug.get_transform("core.Flip")(image=np.zeros((4, 4)), maks=np.zeros((4, 4), int))


def test_star_mask_targets_and_registered_targets():
    assert kind_of("lesion_mask") == "mask"
    domaug.register_target("flow", "field")
    assert kind_of("flow") == "field"
    with pytest.raises(TargetError):
        domaug.register_target("flow", "mask")


def test_missing_optional_targets_are_fine_and_none_is_dropped():
    sample = validate_sample({"image": np.zeros((4, 5), np.uint8), "mask": None})
    assert set(sample) == {"image"}


@pytest.mark.parametrize(
    "targets, message",
    [
        ({"mask": np.zeros((4, 4), int)}, "mask must have the image's spatial shape"),
        ({"valid": np.ones((4, 5), np.uint8)}, "valid must be a boolean array"),
        ({"bboxes": np.zeros((2, 3))}, r"bboxes must be N×\(4\+k\)"),
        ({"bboxes": [[0, 0, np.nan, 1]]}, "NaN"),
        ({"mask": np.zeros((4, 5), np.float32)}, "integer label map"),
    ],
)
def test_inconsistent_targets_are_refused(targets, message):
    with pytest.raises(TargetError, match=message):
        validate_sample({"image": np.zeros((4, 5), np.uint8), **targets})


def test_unsupported_dtype_and_empty_image():
    with pytest.raises(TargetError, match="dtype"):
        validate_sample({"image": np.zeros((4, 5), np.int64)})
    with pytest.raises(TargetError, match="empty"):
        validate_sample({"image": np.zeros((0, 5), np.uint8)})


def test_layout_rules():
    img = np.zeros((8, 9, 3), np.float32)
    assert layout_of({"image": img}).has_channels
    assert layout_of({"image": img, "meta": {"spacing": [2, 1, 1]}}).is_volume
    assert layout_of({"image": img, "mask": np.zeros((8, 9, 3), int)}).is_volume
    assert layout_of({"image": img}, prefer_volume=True).is_volume
    assert not layout_of({"image": img, "meta": {"spatial_ndim": 2}}, prefer_volume=True).is_volume
    lay = layout_of({"image": np.zeros((2, 8, 9, 4))})
    assert lay.spatial_shape == (2, 8, 9) and lay.n_channels == 4


def test_valid_derived_from_nodata():
    img = np.ones((3, 4, 2), np.uint16)
    img[0, 0] = 0
    valid = valid_of({"image": img, "meta": {"nodata": 0}})
    assert valid.sum() == 11 and not valid[0, 0]


@pytest.mark.parametrize("bad", [-np.inf, -1.0])
def test_negative_depth_is_refused_in_one_line(bad):
    depth = np.full((4, 5), 30.0, np.float32)
    depth[1, 2] = bad
    with pytest.raises(TargetError, match="depth has 1 negative pixels") as info:
        validate_sample({"image": np.zeros((4, 5, 3), np.uint8), "depth": depth})
    assert "\n" not in str(info.value)


def test_nan_depth_is_no_data_and_inf_is_infinitely_far():
    depth = np.full((4, 5), 30.0, np.float32)
    depth[1, 2], depth[2, 3] = np.nan, np.inf
    validate_sample({"image": np.zeros((4, 5, 3), np.uint8), "depth": depth})
