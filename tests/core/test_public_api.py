"""The public names users write against (issue 2) stay importable and documented."""

import domaug

PUBLIC = ["Transform", "Compose", "OneOf", "SomeOf", "Sometimes", "register_transform", "get_transform",
          "list_transforms", "save", "load", "from_dict", "replay", "hookimpl", "PixelTransform",
          "SpatialTransform", "DomaugError"]


def test_public_names_exist_and_all_is_sorted():
    for name in PUBLIC:
        assert hasattr(domaug, name), name
        assert name in domaug.__all__
    assert domaug.__all__ == sorted(domaug.__all__)
    assert callable(domaug.Transform.make_params) and callable(domaug.Transform.apply)
    assert callable(domaug.Pipeline.to_dict)


def test_core_transform_names_are_registered():
    names = set(domaug.list_transforms("core"))
    assert {"core.Flip", "core.Rotate90"} <= names


def test_error_tree():
    assert issubclass(domaug.UnknownTransformError, KeyError)
    assert issubclass(domaug.FormatError, ValueError)
    for name in ("ParameterError", "TargetError", "UnsupportedInputError", "RegistrationError", "PluginError",
                 "PipelineFileError", "FormatError", "UnknownTransformError"):
        assert issubclass(getattr(domaug, name), domaug.DomaugError)
