"""Hypothesis-driven properties of EVERY registered transform (core and all installed plugins).

For each name in ``domaug.list_transforms()`` hypothesis draws inputs the transform's domain
should accept (shapes from 1×1 to 64×64, volumes for medical; uint8/uint16/int16/float32;
band counts with ``band_names``; optional nodata, masks, boxes, keypoints) and a seed.
A transform may refuse an input with ``UnsupportedInputError``/``TargetError``/
``ParameterError`` (counted, see ``DOMAUG_RELIABILITY_REPORT``); anything else is a bug.
On success: finite output, dtype kept, shape kept (or changed consistently across targets
by a spatial transform), values inside the dtype / declared range, nodata pixels untouched
and valid pixels off the nodata value (pixel-level transforms), no new mask labels (except a
declared fill/lesion label), boxes and keypoints inside the image, reproducible from the
seed and by replay, ``p=0`` the identity, inputs never mutated.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from hypothesis import strategies as st

import domaug
from domaug.targets import kind_of

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _property_support import (  # noqa: E402
    EXAMPLES, KNOWN_BUGS, NAMES, OUTCOMES, REFUSALS, _equal, _param, _snapshot, check_output, draw_params,
    draw_sample, run_property,
)


def _property(name, data):
    cls = domaug.registry.get_transform_class(name)
    case, sample = draw_sample(data, name)
    sample = {k: v for k, v in sample.items() if kind_of(k) in cls.targets}
    seed = data.draw(st.integers(0, 2**63 - 1), label="transform seed")
    kwargs = draw_params(data, cls)
    before = _snapshot(sample)
    try:
        t = cls(**kwargs)
        out = t(rng=seed, **sample)
    except REFUSALS as exc:
        OUTCOMES[name][f"refused {case}: {type(exc).__name__}"] += 1
        msg = str(exc)
        assert msg and "\n" not in msg.strip(), f"{name}: refusal message must be one line: {msg!r}"
        return
    for key, value in before.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(sample[key], value, err_msg=f"{name} mutated input {key}")
        else:
            assert sample[key] == value or json.dumps(sample[key], default=str) == json.dumps(
                value, default=str), f"{name} mutated input {key}"
    check_output(name, t, sample, out)
    json.dumps(out["applied"])
    _equal(out, cls(**kwargs)(rng=seed, **sample), f"{name}{kwargs}: same seed, different output")
    _equal(out, domaug.replay(json.loads(json.dumps(out["applied"])), **sample), f"{name}{kwargs}: replay differs")
    rebuilt = domaug.from_dict(json.loads(json.dumps(domaug.to_dict(t))))
    _equal(out, rebuilt(rng=seed, **sample), f"{name}{kwargs}: to_dict/from_dict differs")
    ident = cls(**{**kwargs, "p": 0.0})(rng=seed, **sample)
    assert ident["applied"] == []
    for key, value in sample.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(ident[key], value, err_msg=f"{name}: p=0 changed {key}")
    OUTCOMES[name]["passed" if out["applied"] else "passed (p skipped)"] += 1


@pytest.mark.parametrize("name", [_param(n) for n in NAMES])
def test_transform_properties(name):
    run_property(_property, name, EXAMPLES, KNOWN_BUGS)


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    path = os.environ.get("DOMAUG_RELIABILITY_REPORT")
    if path:
        with open(path, "a") as f:
            for name in sorted(OUTCOMES):
                f.write(json.dumps({"name": name, **OUTCOMES[name]}) + "\n")


@pytest.mark.parametrize("shape", [(1, 1), (1, 5, 1), (2, 2, 3)])
def test_resolution_change_on_images_smaller_than_the_factor(shape):
    t = domaug.get_transform("satellite.ResolutionChange", factor=3.0)
    try:
        out = t(image=np.ones(shape, np.float32), rng=0)
    except REFUSALS:
        return
    assert min(out["image"].shape[:2]) >= 1
