"""domaug-agriculture: agriculture augmentations for domaug (transforms registered as ``agriculture.*``)."""

__version__ = "0.1.0"
