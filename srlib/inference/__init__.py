"""Using a trained network, taught in notebooks 02 and 06: tiled super-resolution of whole images,
back-projection and the reverse filter, and upscaling files or folders."""

from .files import upscale_files
from .postprocess import back_projection, lr_consistency, reverse_filter
from .tiles import PRECISIONS, precision_dtype, super_resolve, tiled_forward, upscale

__all__ = ["PRECISIONS", "precision_dtype", "upscale_files", "back_projection", "lr_consistency", "reverse_filter",
           "super_resolve", "tiled_forward", "upscale"]
