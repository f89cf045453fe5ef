import subprocess
import sys

import numpy as np
import pytest

import domaug
from domaug.errors import ParameterError

IMG = np.arange(6 * 8, dtype=np.uint8).reshape(6, 8)


def flip():
    return domaug.get_transform("core.Flip", axis=["horizontal", "vertical"])


def test_seeded_compose_is_reproducible_across_processes():
    code = (
        "import numpy as np, domaug\n"
        "img = np.arange(48, dtype=np.uint8).reshape(6, 8)\n"
        "c = domaug.Compose([domaug.get_transform('core.Flip', axis=['horizontal','vertical']),"
        " domaug.get_transform('core.Rotate90')], seed=11)\n"
        "print([c(image=img)['applied'] for _ in range(3)])\n"
    )
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            for _ in range(2)}
    assert len(outs) == 1


def test_seeded_compose_draws_differently_per_call_and_reset_restarts():
    c = domaug.Compose([flip(), domaug.get_transform("core.Rotate90")], seed=5)
    first = [c(image=IMG)["applied"] for _ in range(6)]
    assert len({str(a) for a in first}) > 1
    c.reset()
    assert [c(image=IMG)["applied"] for _ in range(6)] == first


def test_no_global_rng_touched():
    np.random.seed(0)
    state = np.random.get_state()[1].copy()
    domaug.Compose([flip()], seed=1)(image=IMG)
    domaug.Compose([flip()])(image=IMG)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_oneof_picks_exactly_one_with_weights():
    rot = domaug.get_transform("core.Rotate90", k=2)
    one = domaug.OneOf([flip(), rot], weights=[0, 1])
    for seed in range(5):
        assert [a["name"] for a in one(image=IMG, rng=seed)["applied"]] == ["core.Rotate90"]
    with pytest.raises(ParameterError, match="one entry per transform"):
        domaug.OneOf([flip()], weights=[1, 2])


def test_someof_applies_n_distinct_in_list_order():
    ts = [domaug.get_transform("core.Flip", axis="horizontal"), domaug.get_transform("core.Rotate90", k=1),
          domaug.get_transform("core.Flip", axis="vertical")]
    s = domaug.SomeOf(ts, n=2)
    for seed in range(10):
        applied = s(image=IMG, rng=seed)["applied"]
        assert len(applied) == 2
    with pytest.raises(ParameterError):
        domaug.SomeOf(ts, n=4)


def test_sometimes_and_p_frequency():
    s = domaug.Sometimes(flip(), p=0.3)
    rng = np.random.default_rng(0)
    hits = sum(bool(s(image=IMG, rng=rng)["applied"]) for _ in range(2000))
    assert 0.25 < hits / 2000 < 0.35


def test_compose_replay_and_inputs_untouched():
    c = domaug.Compose([flip(), domaug.get_transform("core.Rotate90")], seed=3)
    img = IMG.copy()
    out = c(image=img, mask=img.astype(np.int32))
    np.testing.assert_array_equal(img, IMG)
    again = domaug.replay(out["applied"], image=img, mask=img.astype(np.int32))
    np.testing.assert_array_equal(out["image"], again["image"])
    np.testing.assert_array_equal(out["mask"], again["mask"])


def test_children_must_be_transforms():
    with pytest.raises(ParameterError, match="children must be domaug transforms"):
        domaug.Compose([lambda x: x])
