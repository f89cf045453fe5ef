"""The contract every registered transform keeps (core and every installed plugin)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import domaug
from domaug.errors import UnsupportedInputError
from domaug.targets import kind_of, layout_of
from domaug.transform import PixelTransform, SpatialTransform
from contract_samples import samples_for

NAMES = domaug.list_transforms()


def _supported(cls, sample: dict) -> dict:
    return {k: v for k, v in sample.items() if kind_of(k) in cls.targets}


def _cases(name):
    cls = domaug.registry.get_transform_class(name)
    out = []
    for case, sample in samples_for(name):
        sample = _supported(cls, sample)
        try:
            cls().check_input(domaug.targets.validate_sample(sample))
        except UnsupportedInputError:
            continue
        out.append((case, sample))
    return out


def _equal(a: dict, b: dict) -> None:
    assert set(a) == set(b)
    for key in a:
        if isinstance(a[key], np.ndarray):
            assert a[key].dtype == b[key].dtype, key
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
        else:
            assert a[key] == b[key], key


def _snapshot(sample: dict) -> dict:
    return {k: v.copy() for k, v in sample.items() if isinstance(v, np.ndarray)}


@pytest.mark.parametrize("name", NAMES)
def test_constructible_with_no_arguments_and_has_a_docstring(name):
    cls = domaug.registry.get_transform_class(name)
    t = cls()
    assert t.p == 1.0
    assert cls.__doc__ and cls.__doc__.strip(), f"{name} needs a docstring naming its model"
    assert _cases(name), f"{name} accepts none of the contract samples for its domain"


@pytest.mark.parametrize("name", NAMES)
def test_contract(name):
    cls = domaug.registry.get_transform_class(name)
    for case, sample in _cases(name):
        before = _snapshot(sample)
        t = cls()
        out = t(rng=2024, **sample)
        # inputs never mutated
        for key, arr in before.items():
            np.testing.assert_array_equal(sample[key], arr, err_msg=f"{name} [{case}] mutated input {key}")
        # the draw is plain data and recorded
        assert [a["name"] for a in out["applied"]] == [name]
        json.dumps(out["applied"])
        # same seed, same output
        _equal(out, cls()(rng=2024, **sample))
        # replay reproduces
        _equal(out, domaug.replay(json.loads(json.dumps(out["applied"])), **sample))
        # serialization round trip reproduces
        rebuilt = domaug.from_dict(json.loads(json.dumps(domaug.to_dict(t))))
        _equal(out, rebuilt(rng=2024, **sample))
        # p = 0 is the identity
        ident = cls(p=0.0)(rng=1, **sample)
        assert ident["applied"] == []
        for key in sample:
            if isinstance(sample[key], np.ndarray):
                np.testing.assert_array_equal(ident[key], sample[key])
        # dtype, shape, range
        image, new = sample["image"], out["image"]
        assert new.dtype == image.dtype, f"{name} [{case}] changed dtype"
        assert new.ndim == image.ndim
        if np.issubdtype(new.dtype, np.floating):
            assert np.isfinite(new).all(), f"{name} [{case}] produced non-finite values"
        lay = layout_of({**sample, "image": image})
        new_lay = layout_of({**out, "image": new})
        assert new_lay.n_channels == lay.n_channels
        if isinstance(t, PixelTransform) or not isinstance(t, SpatialTransform):
            assert new.shape == image.shape, f"{name} [{case}] changed the shape"
        for key, value in out.items():
            if key in ("image", "applied") or not isinstance(value, np.ndarray):
                continue
            kind = kind_of(key)
            if kind in ("mask", "field", "valid"):
                assert value.shape == new_lay.spatial_shape, f"{name} [{case}] {key} shape"
            if kind == "mask" and key in sample:
                assert set(np.unique(value)) <= set(np.unique(sample[key])), f"{name} [{case}] new labels"
            if kind == "bboxes" and len(value):
                h, w = new_lay.spatial_shape[-2:]
                assert (value[:, [0, 2]] >= 0).all() and (value[:, [0, 2]] <= w).all()
                assert (value[:, [1, 3]] >= 0).all() and (value[:, [1, 3]] <= h).all()
                assert ((value[:, 2] > value[:, 0]) & (value[:, 3] > value[:, 1])).all()
        # nodata: untouched where invalid, never produced where valid (pixel-level)
        valid = sample.get("valid")
        if valid is not None and isinstance(t, PixelTransform):
            np.testing.assert_array_equal(new[~valid], image[~valid], err_msg=f"{name} [{case}] touched nodata")
            nodata = (sample.get("meta") or {}).get("nodata")
            if nodata is not None:
                vals = new[valid]
                assert not (vals.reshape(len(vals), -1) == nodata).all(axis=-1).any(), \
                    f"{name} [{case}] a valid pixel took the nodata value"
