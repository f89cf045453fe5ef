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


#: issue 15: the plugin SDK's contract names plugin authors write against
KIT_CONTRACT = ["Context", "PixelTransform", "SpatialTransform", "Transform", "WarpTransform", "register_table",
                "hookimpl", "check_range", "sample_uniform", "layout_of", "valid_of", "fill_invalid", "BandNaming",
                "row_blocks", "spread", "fractal_noise", "gaussian_blur", "srgb_to_linear", "linear_to_srgb",
                "AffineSampler", "warp_image", "apply_windows", "Format", "write_sidecars", "read_sidecars"]


def test_kit_is_one_sorted_surface_of_existing_names():
    import domaug.kit as kit

    assert kit.__all__ == sorted(kit.__all__)
    missing = [name for name in kit.__all__ if not hasattr(kit, name)]
    assert not missing, f"domaug.kit.__all__ names what it does not define: {missing}"
    assert set(KIT_CONTRACT) <= set(kit.__all__)


def test_the_contract_has_one_signature_for_every_kind():
    import inspect

    from domaug.kit import Context, PixelTransform, Transform

    for kind in ("image", "mask", "field", "valid", "bboxes", "keypoints", "meta"):
        params = list(inspect.signature(getattr(Transform, f"apply_to_{kind}")).parameters)
        assert params[2:] == ["params", "ctx"], (kind, params)
    assert list(inspect.signature(Transform.prepare).parameters) == ["self", "sample", "params"]
    assert issubclass(Context, dict) and callable(PixelTransform.finish_image)
