"""Entry point of the medical plugin: its transforms, the DICOM format and the demo
(each module imported only when domaug first asks for it)."""

from __future__ import annotations

from domaug import hookimpl
from domaug.kit import register_table

#: registry name → "module:Class"
TRANSFORMS: dict[str, str] = {
    "medical.RicianNoise": "domaug_medical.rician_noise:RicianNoise",
    "medical.LowDoseCT": "domaug_medical.low_dose_ct:LowDoseCT",
    "medical.Ghosting": "domaug_medical.ghosting:Ghosting",
    "medical.GibbsRinging": "domaug_medical.gibbs_ringing:GibbsRinging",
    "medical.Spike": "domaug_medical.spike:Spike",
    "medical.Motion": "domaug_medical.motion:Motion",
    "medical.BiasField": "domaug_medical.bias_field:BiasField",
    "medical.SliceThickness": "domaug_medical.slice_thickness:SliceThickness",
    "medical.SyntheticLesion": "domaug_medical.synthetic_lesion:SyntheticLesion",
    "medical.Blur": "domaug_medical.blur:Blur",
    "medical.WindowedContrast": "domaug_medical.windowed_contrast:WindowedContrast",
    "medical.ElasticDeformation": "domaug_medical.elastic_deformation:ElasticDeformation",
}


@hookimpl
def register_transforms(register):
    register_table(register, TRANSFORMS)


@hookimpl
def register_formats(register):
    """DICOM files and series (pydicom, imported only when a DICOM file is read or written)."""
    from .dicom_format import DICOMFormat

    register(DICOMFormat())


@hookimpl
def register_demos(register):
    """``domaug demo``: a lower-dose CT on pydicom's bundled CT slice."""
    from .demo import make_inputs, pipeline_dict

    register("medical", make_inputs, pipeline_dict(TRANSFORMS))


@hookimpl
def register_commands(cli):
    """``domaug medical-samples DIR``: pydicom's real CT and MR slices (and the shared files) for the gallery."""
    from .gallery_data import command

    cli.add_command(command)


@hookimpl
def register_gallery_panels(register):
    """``domaug gallery medical``: the lesion host, rigid bone and CT noise map beside each slice."""
    from .gallery_panels import panels

    register("medical", panels)
