"""The losses, taught in notebooks 03 and 05: pixel and structural losses, the perceptual loss, the
adversarial losses and the paper's generator objective (Eq. 1)."""

from .adversarial import gan_d_loss, gan_g_loss, ragan_d_loss, ragan_g_loss
from .objective import GeneratorObjective, colour_pull
from .perceptual import PerceptualLoss, feature_network
from .pixel import MixLoss, charbonnier_loss, l1_loss, l2_loss, ms_ssim_loss, pixel_loss, ssim_loss, with_means_of

__all__ = [
    "gan_d_loss", "gan_g_loss", "ragan_d_loss", "ragan_g_loss", "GeneratorObjective", "colour_pull", "PerceptualLoss",
    "feature_network", "MixLoss", "charbonnier_loss", "l1_loss", "l2_loss", "ms_ssim_loss", "pixel_loss", "ssim_loss",
    "with_means_of",
]
