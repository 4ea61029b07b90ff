#!/usr/bin/env python3
"""Classify an image with a TuneFleet model in plain torchvision: model.safetensors + model.json (the card).

    python3 classify.py path/to/teacher/model.json photo.jpg

The card names the torchvision constructor (architecture.torchvision) for the standard architectures (ImageNet
stem, width 64, linear head: resnet18/34/50/101); the weights load with strict=True. Other architectures (the
small stem, other widths, the MLP head) have no torchvision constructor: serve their model.onnx instead.
Needs torch and torchvision (Debian: python3-torchvision) and Pillow; no safetensors package (the format is
read here: an 8-byte little-endian header length, a JSON header, raw little-endian tensors).
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F
import torchvision

DTYPES = {"F32": np.float32, "I64": np.int64}


def load_safetensors(path):
    """The state_dict in a safetensors file."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    state = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        begin, end = t["data_offsets"]
        array = np.frombuffer(data[base + begin:base + end], dtype=DTYPES[t["dtype"]]).reshape(t["shape"])
        state[name] = torch.from_numpy(array.copy())
    return state


def load_model(card_path):
    """The torchvision network of the card, with the weights of the model.safetensors beside it."""
    with open(card_path) as f:
        card = json.load(f)
    arch = card["architecture"]
    if "torchvision" not in arch:
        sys.exit("%s is not a torchvision architecture (stem %s, width %d, head %s): serve model.onnx instead"
                 % (arch["name"], arch["stem"], arch["base_width"], arch["head"]["kind"]))
    constructor = arch["torchvision"].split("(")[0].split(".")[-1]  # e.g. resnet18
    net = getattr(torchvision.models, constructor)(num_classes=card["num_classes"])
    weights = os.path.join(os.path.dirname(os.path.abspath(card_path)), card["files"]["safetensors"]["path"])
    net.load_state_dict(load_safetensors(weights), strict=True)
    return net.eval(), card


def preprocess(image, card):
    """The card's evaluation transform and normalisation: a PIL image to a (1, 3, H, W) float tensor."""
    x = torch.from_numpy(np.asarray(image.convert("RGB"), dtype=np.float32)).permute(2, 0, 1)[None]
    h, w = x.shape[2], x.shape[3]
    size = (card["input"]["height"], card["input"]["width"])
    t = card["eval_transform"]
    if t["kind"] == "resize_center_crop":
        s = t["resize_shorter_side"]
        nh, nw = (s, int(s * w / h)) if h <= w else (int(s * h / w), s)
        x = F.interpolate(x, size=(nh, nw), mode="bilinear", align_corners=False, antialias=False)
        top, left = int(round((nh - size[0]) / 2.0)), int(round((nw - size[1]) / 2.0))
        x = x[:, :, top:top + size[0], left:left + size[1]]
    elif (h, w) != size:  # "identity": trained on whole images of this size
        x = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=False)
    n = card["normalization"]
    mean = torch.tensor(n["mean"]).view(1, 3, 1, 1)
    std = torch.tensor(n["std"]).view(1, 3, 1, 1)
    return (x / n["pixel_scale"] - mean) / std


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("card", help="model.json (model.safetensors lies beside it)")
    p.add_argument("image", nargs="?", help="a JPEG or PNG of any size")
    p.add_argument("--input-raw", help="instead of an image: float32 NCHW input, already normalised (prints logits)")
    a = p.parse_args()
    net, card = load_model(a.card)
    with torch.no_grad():
        if a.input_raw:
            x = torch.from_numpy(np.fromfile(a.input_raw, dtype="<f4")).view(-1, 3, card["input"]["height"],
                                                                          card["input"]["width"])
            print(json.dumps({"logits": net(x).tolist()}))
            return
        from PIL import Image
        probabilities = torch.softmax(net(preprocess(Image.open(a.image), card)), dim=1)[0]
    best = int(probabilities.argmax())
    print(json.dumps({"model": card.get("model"), "predicted_class": best, "class_name": card["class_names"][best],
                      "probabilities": [round(float(v), 6) for v in probabilities]}))


if __name__ == "__main__":
    main()
