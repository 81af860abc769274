"""The networks, taught in notebook 02: the generator families, the discriminator, SRN-Deblur,
``build_model`` by name, parameter / FLOP counts, loading released or trained weights and network interpolation."""

from .discriminator import VGGDiscriminator
from .edsr import EDSR
from .interpolation import interpolate
from .rdn import RDN
from .registry import ARCHITECTURES, Bicubic, block_output_stds, build_model, count_parameters, flops_per_pixel
from .released import PRETRAINED, load_pretrained
from .rrdbnet import RRDB, RRDBNet
from .srn_deblur import SRNDeblur
from .srresnet import SRResNet
from .trained import GENERATOR, trained_generator
from .wdsr import WDSR
from .weights import CheckpointError, load_weights, read_state_dict

__all__ = [
    "VGGDiscriminator", "EDSR", "RDN", "ARCHITECTURES", "Bicubic", "block_output_stds", "build_model",
    "count_parameters", "flops_per_pixel", "RRDB", "RRDBNet", "SRNDeblur", "SRResNet", "WDSR", "CheckpointError",
    "load_weights", "read_state_dict", "PRETRAINED", "load_pretrained", "interpolate", "GENERATOR", "trained_generator",
]
