"""Writes a torchvision ResNet's state_dict as a safetensors file for TuneFleet's baseModel.safetensors.

Needs only PyTorch (Debian's python3-torch and python3-torchvision: use /usr/bin/python3); the `safetensors`
package, where you have it, writes the same format (`safetensors.torch.save_file(model.state_dict(), f)`).

  /usr/bin/python3 scripts/torchvision_to_safetensors.py --arch resnet50 --weights IMAGENET1K_V2 resnet50.safetensors
  /usr/bin/python3 scripts/torchvision_to_safetensors.py --state-dict resnet50.pth resnet50.safetensors

--weights downloads torchvision's pretrained weights (needs the internet once); --state-dict reads a file written
by torch.save: a state_dict, a checkpoint holding one under "state_dict" or "model", or a whole model. Every
parameter and buffer is written by its torchvision name, BatchNorm running statistics included.
"""
import argparse
import json
import struct

import torch

DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16",
          torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
          torch.bool: "BOOL"}


def save_file(tensors, path):
    """The safetensors format: an 8-byte little-endian header length, a JSON header, raw little-endian data."""
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        raw = t.view(torch.int16) if t.dtype == torch.bfloat16 else t  # numpy has no bfloat16: same bytes
        array = raw.numpy()
        data = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the reference writer aligns the data to 8 bytes
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in chunks:
            f.write(data)


def state_dict_of(loaded):
    if isinstance(loaded, torch.nn.Module):
        return loaded.state_dict()
    for key in ("state_dict", "model"):
        if isinstance(loaded, dict) and isinstance(loaded.get(key), dict):
            loaded = loaded[key]
    # a model trained under DataParallel names everything "module.…"
    return {k[len("module."):] if k.startswith("module.") else k: v for k, v in loaded.items()}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--arch", help="a torchvision model name, e.g. resnet18, resnet50")
    source.add_argument("--state-dict", help="a file written by torch.save")
    p.add_argument("--weights", help="torchvision weights for --arch, e.g. IMAGENET1K_V1 (default: random)")
    p.add_argument("out")
    args = p.parse_args()
    if args.arch:
        import torchvision
        model = getattr(torchvision.models, args.arch)(weights=args.weights)
        tensors = model.state_dict()
    else:
        tensors = state_dict_of(torch.load(args.state_dict, map_location="cpu"))
    save_file(tensors, args.out)
    print(f"{args.out}: {len(tensors)} tensors")


if __name__ == "__main__":
    main()
