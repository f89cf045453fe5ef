import json

import numpy as np
import pytest

import domaug
from domaug.errors import ParameterError, PipelineFileError, UnknownTransformError
from domaug.serialize import loads, pipeline_hash

IMG = np.arange(5 * 7 * 3, dtype=np.uint8).reshape(5, 7, 3)


def pipeline():
    return domaug.Compose(
        [
            domaug.OneOf([domaug.get_transform("core.Flip"), domaug.get_transform("core.Rotate90", k=[1, 3])],
                         weights=[1, 2]),
            domaug.Sometimes(domaug.get_transform("core.Flip", axis="vertical"), p=0.5),
            domaug.SomeOf([domaug.get_transform("core.Rotate90")], n=(0, 1)),
        ],
        seed=42,
    )


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_save_load_round_trip_gives_same_output(tmp_path, suffix):
    p = pipeline()
    path = domaug.save(p, tmp_path / f"pipe{suffix}")
    loaded = domaug.load(path)
    assert domaug.to_dict(loaded) == domaug.to_dict(p)
    for _ in range(4):
        a, b = p(image=IMG), loaded(image=IMG)
        np.testing.assert_array_equal(a["image"], b["image"])
        assert a["applied"] == b["applied"]
    assert pipeline_hash(loaded) == pipeline_hash(p)


def test_file_has_format_version_and_registry_names(tmp_path):
    data = json.loads(domaug.save(pipeline(), tmp_path / "p.json").read_text())
    assert data["domaug_format"] == 1
    assert data["pipeline"]["transforms"][0]["transforms"][0]["name"] == "core.Flip"


@pytest.mark.parametrize(
    "text, error, message",
    [
        ("domaug_format: 1\npipeline: {name: core.Flipp}\n", UnknownTransformError, "did you mean core.Flip"),
        ("domaug_format: 1\npipeline: {name: core.Flip, parms: {}}\n", PipelineFileError, "did you mean 'params'"),
        ("domaug_format: 2\npipeline: {name: core.Flip}\n", PipelineFileError, "domaug_format must be 1"),
        ("domaug_format: 1\npipeline: {name: core.Flip, params: {axis: diagonal}}\n", ParameterError, "axis must be one of"),
        ("domaug_format: 1\npipeline: {name: core.Flip, params: {bogus: 1}}\n", ParameterError, "bogus"),
        ("domaug_format: 1\npipeline: {name: Compose, transforms: [{name: nope.X}]}\n", UnknownTransformError,
         r"pipeline \(Compose\).transforms\[0\] \(nope.X\)"),
        ("domaug_format: 1\npipelin: {}\n", PipelineFileError, "did you mean 'pipeline'"),
        ("[unclosed\n", PipelineFileError, "not valid YAML"),
    ],
)
def test_bad_pipelines_are_refused_clearly(text, error, message):
    with pytest.raises(error, match=message):
        loads(text, source="p.yaml")


def test_yaml_loading_is_safe(tmp_path):
    evil = "domaug_format: 1\npipeline: !!python/object/apply:os.system ['echo pwned']\n"
    with pytest.raises(PipelineFileError, match="not valid YAML"):
        loads(evil)


def test_bare_node_accepted():
    t = domaug.from_dict({"name": "core.Rotate90", "params": {"k": 2}})
    np.testing.assert_array_equal(t(image=IMG)["image"], IMG[::-1, ::-1])
