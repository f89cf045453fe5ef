import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import domaug
from domaug.errors import RegistrationError, UnknownTransformError
from domaug.registry import owner_of, unregister_transform

USER_MODULES = Path(__file__).resolve().parents[1] / "fixtures" / "user_module"


def test_decorator_registers_under_user_namespace_and_replays():
    @domaug.register_transform
    class Brighten(domaug.PixelTransform):
        """Adds a drawn offset."""

        def make_params(self, rng, sample):
            return {"offset": float(rng.uniform(1, 5))}

        def apply_to_image(self, image, params, sample):
            return image.astype(np.float32) + params["offset"]

    try:
        assert "user.Brighten" in domaug.list_transforms("user")
        img = np.zeros((3, 3), np.uint8)
        out = domaug.get_transform("user.Brighten")(image=img, rng=3)
        assert out["applied"][0]["name"] == "user.Brighten"
        again = domaug.replay(out["applied"], image=img)
        np.testing.assert_array_equal(out["image"], again["image"])
        assert "user code" in owner_of("user.Brighten")
    finally:
        unregister_transform("user.Brighten")


def test_decorator_with_explicit_name():
    @domaug.register_transform(name="lab.Noop")
    class Noop(domaug.PixelTransform):
        """Does nothing."""

        def apply_to_image(self, image, params, sample):
            return image

    try:
        assert isinstance(domaug.get_transform("lab.Noop"), Noop)
    finally:
        unregister_transform("lab.Noop")


def test_registration_is_checked():
    with pytest.raises(RegistrationError, match="not a subclass of domaug.Transform"):
        domaug.register_transform(int)
    with pytest.raises(RegistrationError, match="names must be 'namespace.Name'"):
        @domaug.register_transform(name="nonamespace")
        class Bad(domaug.PixelTransform):
            """x"""


def test_name_claimed_twice_names_both_owners():
    class One(domaug.PixelTransform):
        """x"""

    with pytest.raises(RegistrationError, match="claimed twice: by domaug .*Flip.* and by user code"):
        domaug.register_transform(One, name="core.Flip")


def test_unknown_names_suggest_close_matches():
    with pytest.raises(UnknownTransformError, match="did you mean core.Flip"):
        domaug.get_transform("core.Flipp")
    with pytest.raises(UnknownTransformError, match="no installed plugin provides the 'nosuch' namespace"):
        domaug.get_transform("nosuch.Thing")


def test_unregistered_class_cannot_be_recorded():
    class Loose(domaug.PixelTransform):
        """x"""

        def apply_to_image(self, image, params, sample):
            return image

    with pytest.raises(RegistrationError, match="register_transform"):
        Loose()(image=np.zeros((2, 2), np.uint8))


def test_plugin_module_route_in_a_fresh_process():
    code = (
        "import numpy as np, domaug\n"
        "from domaug.plugins import load_plugin_module\n"
        "load_plugin_module('my_domaug_transforms')\n"
        "out = domaug.get_transform('user.Invert')(image=np.zeros((2, 2), np.uint8))\n"
        "print(int(out['image'][0, 0]))\n"
    )
    env = {"PYTHONPATH": str(USER_MODULES)}
    import os

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "255"


def test_missing_plugin_module_is_a_clear_error():
    from domaug.plugins import load_plugin_module

    with pytest.raises(domaug.PluginError, match="cannot import plugin module 'no_such_module_xyz'"):
        load_plugin_module("no_such_module_xyz")


def test_transform_without_own_init_serializes():
    @domaug.register_transform(name="lab.Plain")
    class Plain(domaug.PixelTransform):
        """Identity."""

        def apply_to_image(self, image, params, sample):
            return image

    try:
        assert Plain().to_dict() == {"name": "lab.Plain", "params": {}}
        assert Plain(p=0.5).to_dict() == {"name": "lab.Plain", "params": {"p": 0.5}}
        assert domaug.from_dict(domaug.to_dict(Plain(p=0.5))).p == 0.5
    finally:
        unregister_transform("lab.Plain")
