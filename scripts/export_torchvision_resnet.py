"""Exports a torchvision ResNet (random weights, seeded) as TuneFleet's base models, and its reference logits.

Usage: /usr/bin/python3 scripts/export_torchvision_resnet.py ARCH OUT_DIR [--num-classes N] [--seed S]
           [--formats scripted,traced,safetensors] [--check-batch 2] [--check-size 64]

Writes into OUT_DIR, for each format asked for:
  ARCH.scripted.pt     torch.jit.script(model).save(f)   (base_model.torchscript)
  ARCH.traced.pt       torch.jit.trace(model, x).save(f) (base_model.torchscript)
  ARCH.safetensors     the state_dict in the safetensors format (base_model.safetensors)
and ARCH.check.safetensors: a fixed input ("input", N x 3 x S x S, seeded normal values) and the model's logits
for it in eval mode ("logits", and "logits_float64" from the same model in float64), so a test can check that the fleet's import computes the same function.

The BatchNorm running statistics are not left at torchvision's 0 / 1: the model first runs a few batches in
training mode (cumulative averages), as pretraining would, so an import that drops them gives other logits.
Needs Debian's python3-torch and python3-torchvision (use /usr/bin/python3).
"""
import argparse
import os
import sys

import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torchvision_to_safetensors import save_file  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("arch")
p.add_argument("out_dir")
p.add_argument("--num-classes", type=int, default=1000)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--formats", default="scripted,traced,safetensors")
p.add_argument("--check-batch", type=int, default=2)
p.add_argument("--check-size", type=int, default=64)
args = p.parse_args()

torch.manual_seed(args.seed)
model = getattr(torchvision.models, args.arch)(num_classes=args.num_classes)
# running statistics as pretraining leaves them: averaged over a few batches, different in every layer
for m in model.modules():
    if isinstance(m, torch.nn.BatchNorm2d):
        m.momentum = None
model.train()
with torch.no_grad():
    for _ in range(3):
        model(torch.randn(8, 3, args.check_size, args.check_size) * 2 + 0.5)
for m in model.modules():
    if isinstance(m, torch.nn.BatchNorm2d):
        m.momentum = 0.1
model.eval()

x = torch.randn(args.check_batch, 3, args.check_size, args.check_size, generator=torch.Generator().manual_seed(args.seed + 1))
base = os.path.join(args.out_dir, args.arch)
formats = args.formats.split(",")
if "scripted" in formats:
    torch.jit.script(model).save(base + ".scripted.pt")
if "traced" in formats:
    torch.jit.trace(model, x).save(base + ".traced.pt")
if "safetensors" in formats:
    save_file(model.state_dict(), base + ".safetensors")
with torch.no_grad():
    logits = model(x)
    # PyTorch's own float32 rounding, for a reader of a failed comparison: the same model in float64
    logits64 = model.double()(x.double())
save_file({"input": x, "logits": logits, "logits_float64": logits64}, base + ".check.safetensors")
