"""Using a trained network, taught in notebooks 02 and 06: tiled super-resolution of whole images,
back-projection and the reverse filter, upscaling files or folders, and the network-interpolation knob measured
(notebook 05)."""

from ..hardware import PRECISIONS, precision_dtype
from ..models.tiling import tiled_forward
from .cache import cached_upscaler, network_digest
from .files import DEFAULT_TILE, NotEnoughMemory, upscale_files
from .interpolation import (
    ALPHAS,
    PIRM_REGIONS,
    blend_images,
    interpolated_outputs,
    pirm_choices,
    trace_interpolation,
    trace_runs,
)
from .postprocess import back_projection, lr_consistency, reverse_filter
from .tiles import super_resolve, upscale

__all__ = ["DEFAULT_TILE", "NotEnoughMemory", "PRECISIONS", "precision_dtype", "upscale_files", "back_projection",
           "lr_consistency", "reverse_filter", "super_resolve", "tiled_forward", "upscale", "ALPHAS", "PIRM_REGIONS",
           "blend_images", "interpolated_outputs", "pirm_choices", "trace_interpolation", "trace_runs",
           "cached_upscaler", "network_digest"]
