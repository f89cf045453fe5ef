"""README's Python examples run as written (a stale example is a bug users hit first)."""

import re
from pathlib import Path

import numpy as np

import domaug

README = Path(__file__).resolve().parents[1] / "README.md"


def blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_using_transforms_example(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = next(b for b in blocks() if "domaug.Compose(" in b)
    ns: dict = {}
    exec(compile(code, "README", "exec"), ns)
    np.testing.assert_array_equal(ns["out"]["image"], ns["again"]["image"])
    assert domaug.to_dict(ns["same"]) == domaug.to_dict(ns["pipeline"])


def test_custom_transform_example():
    code = next(b for b in blocks() if "@domaug.register_transform" in b)
    ns: dict = {}
    try:
        exec(compile(code, "README", "exec"), ns)
        t = domaug.get_transform("user.Sepia")
        img = np.full((4, 5, 3), 120, np.uint8)
        out = t(image=img, rng=1)
        assert out["image"].dtype == np.uint8 and (out["image"] != img).any()
        np.testing.assert_array_equal(domaug.replay(out["applied"], image=img)["image"], out["image"])
    finally:
        domaug.registry.unregister_transform("user.Sepia")
