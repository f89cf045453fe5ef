"""k-space artefacts: energy bounds (Parseval), ghost positions, Gibbs overshoot, spikes, motion."""

from __future__ import annotations

import numpy as np
import pytest

import domaug


def _t(name, **kw):
    return domaug.get_transform(f"medical.{name}", **kw)


def _phantom(shape=(64, 64), seed=0):
    rng = np.random.default_rng(seed)
    img = np.zeros(shape, np.float32)
    sl = tuple(slice(s // 4, 3 * s // 4) for s in shape)
    img[sl] = 100.0
    img += rng.normal(0, 2, shape).astype(np.float32)
    return np.abs(img)


def _energy(x):
    return float(np.sum(x.astype(np.float64) ** 2))


@pytest.mark.parametrize("shape", [(64, 64), (16, 32, 32)])
def test_ghosting_energy_bounded(shape):
    img = _phantom(shape)
    for seed in range(5):
        out = _t("Ghosting")(image=img, rng=seed)
        a = out["applied"][0]["params"]["intensity"]
        e_in, e_out = _energy(img), _energy(out["image"])
        assert (1 - a) ** 2 * e_in * 0.999 <= e_out <= e_in * 1.001


def test_ghosting_replicas_at_fov_over_n():
    img = np.full((64, 64), -100.0, np.float32)  # signed data: the real part is returned
    img[28:36, 28:36] = 100.0
    a, n = 0.8, 4
    out = _t("Ghosting", num_ghosts=n, ghost_ratio=a / n, phase_axis="vertical")(image=img, rng=0)["image"]
    # every n-th k-line scaled by 1 − a, the centre line kept: replicas of −a/n every 64/n rows
    copies = sum(np.roll(img, j * 64 // n, axis=0) for j in range(n)) / n
    expected = img - a * (copies - img.mean(axis=0, keepdims=True))
    np.testing.assert_allclose(out, expected, atol=1e-3)
    replica = out[28 + 16: 36 + 16, 28:36].mean() - out[28 + 8: 36 + 8, 28:36].mean()
    assert replica == pytest.approx(-a / n * 200.0, rel=0.01)
    # the columns beside the object (not along the phase axis) get no replica
    np.testing.assert_allclose(out[:, 44:52], img[:, 44:52], atol=1e-3)


def test_gibbs_overshoot_at_step_and_energy_loss():
    img = np.full((32, 128), 100.0, np.float32)
    img[:, 64:] = 200.0
    out = _t("GibbsRinging", keep_fraction=0.4, axes="horizontal")(image=img, rng=0)["image"]
    assert _energy(out) <= _energy(img) * 1.0001
    # overshoot of roughly 9 % of the step beside the edge, ringing on both sides
    assert out[:, 64:80].max() > 200 + 0.05 * 100
    assert out[:, 48:64].min() < 100 - 0.05 * 100
    # far from the edges (the periodic FFT also sees a step at the border) the plateau is kept
    assert abs(out[:, 96].mean() - 200) < 3


def test_spike_adds_a_single_frequency_and_energy_is_bounded():
    img = np.full((64, 64), 50.0, np.float32)
    t = _t("Spike", num_spikes=1, intensity=0.3)
    out = t(image=img, meta={"modality": "MR"}, rng=3)
    params = out["applied"][0]["params"]["spikes"][0]
    amp = params["amplitude"]
    assert amp == pytest.approx(0.3 * 50.0)
    diff = out["image"] - img
    # magnitude of a positive image: |50 + A e^{iθ}| − 50 is periodic with the spike frequency
    spec = np.abs(np.fft.fft2(diff))
    spec[0, 0] = 0
    peak = np.unravel_index(np.argmax(spec), spec.shape)
    ky, kx = params["position"]
    assert peak in {(ky % 64, kx % 64), (-ky % 64, -kx % 64)}
    e_bound = (np.sqrt(_energy(img)) + amp * np.sqrt(img.size)) ** 2
    assert _energy(out["image"]) <= e_bound


def test_motion_without_movement_is_identity_and_energy_bounded():
    img = _phantom((24, 48, 48))
    meta = {"spacing": [3.0, 1.0, 1.0]}
    still = _t("Motion", degrees=0, translation_mm=0)(image=img, meta=meta, rng=1)["image"]
    np.testing.assert_allclose(still, img, atol=1e-3)
    for seed in range(3):
        out = _t("Motion", degrees=8, translation_mm=6)(image=img, meta=meta, rng=seed)["image"]
        assert 0.7 * _energy(img) <= _energy(out) <= 1.3 * _energy(img)
        assert not np.allclose(out, img, atol=1.0)


def test_signed_ct_stays_signed_real_part():
    img = np.full((48, 48), -1000, np.int16)
    img[12:36, 12:36] = 40
    for name in ("Ghosting", "GibbsRinging", "Spike", "Motion"):
        meta = {"modality": "CT"} if name == "GibbsRinging" else {}  # the MR-only ones: signed data, no modality
        out = _t(name)(image=img, meta=meta, rng=0)["image"]
        assert out.dtype == np.int16
        assert out.min() < -900  # air stays air, not folded to positive magnitudes


@pytest.mark.parametrize("name", ["Ghosting", "Spike", "Motion", "BiasField"])
def test_mr_only_artefacts_refuse_ct_in_one_line(name):
    img = np.full((32, 32), 40, np.int16)
    with pytest.raises(domaug.UnsupportedInputError, match="the image is CT") as info:
        _t(name)(image=img, meta={"modality": "CT"}, rng=0)
    assert "\n" not in str(info.value) and f"medical.{name}" in str(info.value)


def test_phase_axis_from_dicom_meta():
    img = _phantom((32, 32))
    out = _t("Ghosting")(image=img, meta={"phase_encoding_direction": "ROW"}, rng=0)
    assert out["applied"][0]["params"]["phase_axis"] == "horizontal"
    with pytest.raises(domaug.UnsupportedInputError, match="depth"):
        _t("Ghosting", phase_axis="depth")(image=img, rng=0)


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None)
@given(shape=st.one_of(st.tuples(st.integers(4, 40), st.integers(4, 40)),
                       st.tuples(st.integers(2, 8), st.integers(4, 24), st.integers(4, 24))),
       seed=st.integers(0, 2**31))
def test_kspace_energy_never_grows_for_attenuating_artefacts(shape, seed):
    img = np.random.default_rng(seed).uniform(0, 100, shape).astype(np.float32)
    for name in ("Ghosting", "GibbsRinging"):
        out = _t(name)(image=img, rng=seed)["image"]
        assert out.shape == img.shape and np.isfinite(out).all() and (out >= 0).all()
        assert _energy(out) <= _energy(img) * 1.0001


def test_gibbs_on_signed_data_rings_only_at_inner_edges():
    """CT (signed) is mirrored before the truncation: a smooth ramp from top to bottom gets no
    ringing at the image border, which the periodic FFT would see as a 300 HU step; an edge
    inside rings as before."""
    ramp = np.tile(np.linspace(-100, 200, 64, dtype=np.float32)[:, None], (1, 32))
    t = _t("GibbsRinging", keep_fraction=0.8, axes="vertical")
    out = t(image=ramp, meta={"modality": "CT"}, rng=0)["image"]
    assert np.abs(out - ramp).max() < 1.0
    step = ramp.copy()
    step[32:] += 300
    out = t(image=step, meta={"modality": "CT"}, rng=0)["image"]
    assert np.abs(out - step)[28:36].max() > 10  # the inner edge rings
