"""srlib: the code behind the ESRGAN-Pro course (data, resize, metrics, ...)."""

__version__ = "0.1.0"
