"""Entry point of the medical plugin: registers its transforms (imported lazily by domaug)."""

from __future__ import annotations

import importlib

from domaug import hookimpl

from .demo import register_demos  # noqa: F401  (hookimpl: ``domaug demo``)

#: registry name → "module:Class" inside domaug_medical
TRANSFORMS: dict[str, str] = {
    "medical.RicianNoise": "rician_noise:RicianNoise",
    "medical.LowDoseCT": "low_dose_ct:LowDoseCT",
    "medical.Ghosting": "ghosting:Ghosting",
    "medical.GibbsRinging": "gibbs_ringing:GibbsRinging",
    "medical.Spike": "spike:Spike",
    "medical.Motion": "motion:Motion",
    "medical.BiasField": "bias_field:BiasField",
    "medical.SliceThickness": "slice_thickness:SliceThickness",
    "medical.SyntheticLesion": "synthetic_lesion:SyntheticLesion",
    "medical.Blur": "blur:Blur",
    "medical.WindowedContrast": "windowed_contrast:WindowedContrast",
    "medical.ElasticDeformation": "elastic_deformation:ElasticDeformation",
}


@hookimpl
def register_transforms(register):
    for name, ref in TRANSFORMS.items():
        module_name, class_name = ref.split(":")
        module = importlib.import_module(f"domaug_medical.{module_name}")
        register(getattr(module, class_name), name=name)


@hookimpl
def register_formats(register):
    """DICOM files and series (pydicom, imported only when a DICOM file is read or written)."""
    from .dicom_format import DICOMFormat

    register(DICOMFormat())
