"""domaug-driving: driving augmentations for domaug (transforms registered as ``driving.*``)."""

__version__ = "0.2.0"
