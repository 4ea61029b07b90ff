"""Exports a torchvision ResNet (random weights, seeded) to TorchScript for TuneFleet's base_model.torchscript.

Usage: /usr/bin/python3 scripts/export_torchvision_resnet.py ARCH OUT.pt [NUM_CLASSES] [SEED]

Also writes OUT.pt.check.json: the logits of the model in eval mode for a fixed input
(torch.linspace over 1x3x64x64), so a test can check that the fleet's import computes the same function.
Needs Debian's python3-torch and python3-torchvision (use /usr/bin/python3).
"""
import json
import sys

import torch
import torchvision

arch, out = sys.argv[1], sys.argv[2]
num_classes = int(sys.argv[3]) if len(sys.argv) > 3 else 10
seed = int(sys.argv[4]) if len(sys.argv) > 4 else 0
torch.manual_seed(seed)
model = getattr(torchvision.models, arch)(num_classes=num_classes)
model.eval()
torch.jit.script(model).save(out)
x = torch.linspace(-1, 1, 3 * 64 * 64).reshape(1, 3, 64, 64)
with torch.no_grad():
    logits = model(x)[0].tolist()
with open(out + ".check.json", "w") as f:
    json.dump({"arch": arch, "num_classes": num_classes, "logits": logits,
               "conv1_weight_sum": float(model.conv1.weight.sum())}, f)
