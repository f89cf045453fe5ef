"""The satellite gallery panels: CloudCover's stratocumulus and cirrus beside named-RGB inputs."""

from __future__ import annotations

import numpy as np

from domaug_satellite.gallery_panels import PANEL_PRESETS, panels


def _scene(h=64, w=80):
    rng = np.random.default_rng(0)
    return (8000 + 2000 * rng.random((h, w, 4))).astype(np.uint16)


def test_panels_show_the_other_cloud_types_in_true_colour():
    sample = {"image": _scene(), "meta": {"band_names": ["blue", "green", "red", "nir"], "full_scale": 10000,
                                          "transform": [0.0, 30.0, 0.0, 0.0, 0.0, -30.0]}}
    made = panels(sample)
    assert [c[1][0].split("=")[1] for c in made] == list(PANEL_PRESETS)
    for rgb, caption in made:
        assert rgb.dtype == np.uint8 and rgb.shape == (64, 80, 3)
        assert rgb.mean() > 0.0 and rgb.std() > 0.0  # clouds on the scene, not a blank cell


def test_no_panels_without_named_rgb_bands():
    assert panels({"image": _scene()}) == []
    assert panels({"image": _scene()[..., 0]}) == []
