"""domaug-satellite: satellite augmentations for domaug (transforms registered as ``satellite.*``)."""

__version__ = "0.2.0"
