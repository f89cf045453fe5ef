"""domaug-medical: medical augmentations for domaug (transforms registered as ``medical.*``)."""

__version__ = "0.2.0"
