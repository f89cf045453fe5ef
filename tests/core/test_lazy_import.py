"""`import domaug` stays light: no plugin, no domain library, no heavy scikit-image module."""

import subprocess
import sys

HEAVY = ("pydicom", "rasterio", "skimage.io", "skimage", "scipy.ndimage", "dask", "domaug_medical",
         "domaug_driving", "domaug_satellite", "domaug_agriculture", "yaml", "PIL")


def test_import_domaug_loads_nothing_heavy():
    code = "import sys, domaug; print('\\n'.join(sorted(sys.modules)))"
    loaded = set(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                text=True).stdout.split())
    assert not [m for m in HEAVY if m in loaded]


def test_core_transform_does_not_import_plugins():
    code = ("import sys, domaug; domaug.get_transform('core.Flip'); "
            "print('\\n'.join(sorted(sys.modules)))")
    loaded = set(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                text=True).stdout.split())
    assert not [m for m in loaded if m.split(".")[0] in ("domaug_medical", "domaug_driving",
                                                         "domaug_satellite", "domaug_agriculture",
                                                         "pydicom", "rasterio")]
