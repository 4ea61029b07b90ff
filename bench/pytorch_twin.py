"""The plain-PyTorch twin of `fleet ablate`'s "from scratch" row: the accuracy reference of `fleet parity`.

Trains, for each seed, the fleet's scratch architecture (resnet10, base width 16, "small" stem, linear head) in
torchvision's layout on the same images, with the same recipe and the same model-selection rule as the fleet,
then scores the test images once with the chosen epoch's weights. Every choice below cites the Java class it
copies; where plain PyTorch cannot copy the fleet exactly, the comment says so.

Usage:
  /usr/bin/python3 bench/pytorch_twin.py DATA_DIR [--seeds 0,1,2,3,4] [--threads N] [--fleet-streams]
      [--base FILE.safetensors]   (fine-tune from these weights instead of training from scratch)
  /usr/bin/python3 bench/pytorch_twin.py --make-data DATA_DIR [--source datasets/fashion-mnist] [--per-class 100]
      [--seeds 0,1,2,3,4]        (writes a DATA_DIR from the Fashion-MNIST IDX files, as `fleet ablate` loads them)

DATA_DIR holds
  train-images.u8  N x H x W uint8, row-major, no header      train-labels.u8  N uint8, class index 0..C-1
  test-images.u8   M x H x W uint8                             test-labels.u8   M uint8
  meta.json        {"height", "width", "num_classes", "epochs", "batch_size", "lr", "momentum", "weight_decay",
                    "label_smoothing", "patience", "flip_probability", "normalization": {"mean": [3], "std": [3]},
                    "splits": {"<seed>": {"train": [indices into train-*], "validation": [indices],
                                          optional "job_id" (default "ablate-<seed>", read by --fleet-streams)}},
                    optional: "input_channels" (3), "architecture": {"blocks": [1,1,1,1], "base_width": 16,
                    "stem": "small"}}
Output: one JSON object per seed on stdout, one line each:
  {"seed", "best_epoch" (0-based, as the fleet's LocalRun.Result), "epochs_run", "validation_accuracy",
   "validation_macro_f1", "test_accuracy", "test_macro_f1", "seconds", "threads", "parameters" (trainable, as
   ResNets.parameterCount counts them: 308,181 for the scratch row), "streams" ("torch"|"fleet")}
By default the seed seeds torch: initial weights, sampling order and flips are plain PyTorch's, so a run agrees
with the fleet's run of the same seed in distribution only. --fleet-streams draws all three exactly as the fleet
does for that seed and job id (the validation split is the fleet's either way: it comes from meta.json), so the
two runs differ only in arithmetic -- a paired check. Its sampling positions index splits[seed].train in the order
given, so that list must be in the order the fleet holds its training split (ascending, as StratifiedSplit
returns it).
Progress goes to stderr. Bad input exits with status 2 and one line per problem, naming the field.
"""
import argparse
import copy
import gzip
import json
import math
import os
import struct
import sys
import time

# OpenMP threads that spin while they wait for each other lose their core to any other busy process: on this
# shared 2-core machine a 2-thread step took ~1 s instead of ~90 ms. Passive waiting changes no result. It must be
# set before torch loads its OpenMP runtime; a value from the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
from torchvision.models.resnet import BasicBlock, ResNet  # noqa: E402

FILES = ("train-images.u8", "train-labels.u8", "test-images.u8", "test-labels.u8")
# the scratch row's architecture (Ablate.baseArchitecture): ResNets.resolve fills in blocks [1,1,1,1] for resnet10
DEFAULT_ARCHITECTURE = {"blocks": [1, 1, 1, 1], "base_width": 16, "stem": "small"}
# Ablate.CLASSES: the odd Fashion-MNIST classes, relabelled 0..4 in this order (IdxReader)
ODD_CLASSES = (1, 3, 5, 7, 9)


class InputProblem(Exception):
    """Bad input: a list of (field, problem) pairs, reported all at once."""

    def __init__(self, problems):
        super().__init__("; ".join(f"{f}: {p}" for f, p in problems))
        self.problems = problems


# ---------------------------------------------------------------------------------------------------------------
# The network


class TwinResNet(ResNet):
    """torchvision's ResNet with the fleet's width and stem (ResNet.java, ResNets.java, Stage.java).

    torchvision's constructor fixes a 7x7 stride-2 stem, a max-pool and widths 64..512 (`width_per_group` does not
    widen a BasicBlock), so this builds the same attributes itself with torchvision's own `_make_layer` and
    BasicBlock, and inherits torchvision's forward (conv1, bn1, relu, maxpool, layer1..4, avgpool, fc): a
    torchvision state_dict of this shape loads, and the names are the fleet's (ParameterNames, TorchvisionNames).
    """

    def __init__(self, blocks, base_width, stem, num_classes, input_channels):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d  # torch momentum 0.1 = DJL's 0.9 (ChannelBatchNorm.MOMENTUM), eps 1e-5
        self.inplanes = base_width
        self.dilation = 1
        self.groups = 1
        self.base_width = 64  # torchvision's BasicBlock insists on 64 here; it does not set the block's width
        imagenet = stem == "imagenet"
        # ResNet.java: "small" = 3x3 stride-1 padding-1 convolution and no max-pool; "imagenet" = 7x7/2 + 3x3/2 pool
        self.conv1 = nn.Conv2d(input_channels, base_width, 7 if imagenet else 3, stride=2 if imagenet else 1,
                               padding=3 if imagenet else 1, bias=False)
        self.bn1 = nn.BatchNorm2d(base_width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1) if imagenet else nn.Identity()
        # Stage.java / ResidualUnit.java: stage i has width base << i, stride 2 from layer2 on, in the first unit;
        # a projection shortcut (Downsample: 1x1 conv + BN) where the shape changes. The fleet takes every second
        # pixel and then a stride-1 1x1 convolution (a libtorch/oneDNN workaround): the same values as
        # torchvision's strided 1x1 convolution.
        self.layer1 = self._make_layer(BasicBlock, base_width, blocks[0])
        self.layer2 = self._make_layer(BasicBlock, base_width * 2, blocks[1], stride=2)
        self.layer3 = self._make_layer(BasicBlock, base_width * 4, blocks[2], stride=2)
        self.layer4 = self._make_layer(BasicBlock, base_width * 8, blocks[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(base_width * 8, num_classes)  # HeadSpec LINEAR: torchvision's fc itself
        self.reset_parameters()

    def reset_parameters(self):
        """Initialization.java, which is torchvision's ResNet scheme except for the head's bias.

        Convolutions: Kaiming-normal, fan-out, ReLU gain (std sqrt(2 / (out * kh * kw))), as torchvision.
        BatchNorm: scale 1, shift 0, running mean 0 and variance 1, as torchvision.
        fc.weight: uniform in +-1/sqrt(fan_in), which is torch's default nn.Linear init.
        fc.bias: ZERO in the fleet (Initialization: "biases start at zero"); torch's default draws it uniform in
        +-1/sqrt(fan_in), so the twin zeroes it to match the fleet.
        The values themselves differ: the fleet draws from Java's SplittableRandom per parameter name, the twin
        from torch's generator seeded with the run's seed; the distributions are the same.
        """
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        bound = 1.0 / math.sqrt(self.fc.in_features)
        nn.init.uniform_(self.fc.weight, -bound, bound)
        nn.init.zeros_(self.fc.bias)


def parameter_groups(model, weight_decay):
    """TrainingSession.java: no weight decay on BatchNorm scales/shifts (GAMMA, BETA) and biases (BIAS);
    every other parameter (convolution weights, fc.weight) decays. One learning rate for all (the scratch row
    sets lr_backbone = lr_head = 0.05), so the fleet's per-stage groups collapse to these two."""
    decay, no_decay = [], []
    for module in model.modules():
        for name, p in module.named_parameters(recurse=False):
            (no_decay if isinstance(module, nn.BatchNorm2d) or name == "bias" else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def cosine_factor(epoch, epochs):
    """LearningRateSchedule.factor for COSINE without warm-up: 0.5 (1 + cos(pi e / E)), set once per epoch
    (TrainingSession.beginEpoch), e = 0..E-1, so the first epoch runs at the full rate and the last one above 0:
    torch's CosineAnnealingLR(T_max=E, eta_min=0) stepped once per epoch."""
    return 1.0 if epochs <= 1 else 0.5 * (1 + math.cos(math.pi * epoch / epochs))


# ---------------------------------------------------------------------------------------------------------------
# Metrics


def confusion(labels, predicted, num_classes):
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (labels, predicted), 1)
    return cm


def accuracy(cm):
    total = cm.sum()
    return 0.0 if total == 0 else float(np.trace(cm)) / float(total)


def macro_f1(cm):
    """ConfusionMatrix.macroF1: the mean F1 over the classes with support > 0; a class with no predictions has
    precision 0, and F1 0 when precision + recall is 0 (scikit-learn's f1_score(average="macro",
    labels=present classes, zero_division=0))."""
    f1s = []
    for c in range(cm.shape[0]):
        support = cm[c, :].sum()
        if support == 0:
            continue
        predicted = cm[:, c].sum()
        p = 0.0 if predicted == 0 else cm[c, c] / predicted
        r = cm[c, c] / support
        f1s.append(0.0 if p + r == 0 else 2 * p * r / (p + r))
    return 0.0 if not f1s else float(sum(f1s) / len(f1s))


def evaluate(model, images, labels, num_classes, batch_size=256):
    """Classifier.evaluate: inference mode (BatchNorm running statistics), chunks of 256, arg-max; also the mean
    cross-entropy without label smoothing (ConfusionMatrix.meanLoss), which breaks ties in macro-F1."""
    model.eval()
    predicted = []
    loss_sum = 0.0
    with torch.no_grad():
        for start in range(0, images.shape[0], batch_size):
            logits = model(images[start:start + batch_size])
            predicted.append(logits.argmax(1))
            loss_sum += float(nn.functional.cross_entropy(logits, labels[start:start + batch_size], reduction="sum"))
    cm = confusion(labels.numpy(), torch.cat(predicted).numpy(), num_classes)
    return accuracy(cm), macro_f1(cm), loss_sum / max(1, images.shape[0])


# ---------------------------------------------------------------------------------------------------------------
# Input


def read_u8(path, field):
    try:
        with open(path, "rb") as f:
            return np.frombuffer(f.read(), dtype=np.uint8)
    except OSError as e:
        raise InputProblem([(field, f"cannot read {path}: {e.strerror}")])


def load(data_dir):
    """Reads and checks DATA_DIR; every problem is named at once."""
    problems = []
    if not os.path.isdir(data_dir):
        raise InputProblem([("DATA_DIR", f"{data_dir} is not a folder")])
    try:
        with open(os.path.join(data_dir, "meta.json")) as f:
            meta = json.load(f)
    except OSError as e:
        raise InputProblem([("meta.json", f"cannot read it: {e.strerror}")])
    except json.JSONDecodeError as e:
        raise InputProblem([("meta.json", f"is not JSON: {e}")])
    if not isinstance(meta, dict):
        raise InputProblem([("meta.json", "must be a JSON object")])

    def number(name, check, wants, integer=False):
        v = meta.get(name)
        if v is None:
            problems.append((f"meta.{name}", "is missing"))
        elif isinstance(v, bool) or not isinstance(v, (int, float)) or (integer and not isinstance(v, int)):
            problems.append((f"meta.{name}", f"must be {'an integer' if integer else 'a number'}, was {v!r}"))
        elif not check(v):
            problems.append((f"meta.{name}", f"must be {wants}, was {v}"))
        return v

    h = number("height", lambda v: 1 <= v <= 4096, "in 1..4096", True)
    w = number("width", lambda v: 1 <= v <= 4096, "in 1..4096", True)
    k = number("num_classes", lambda v: v >= 2, ">= 2", True)
    number("epochs", lambda v: 1 <= v <= 1000, "in 1..1000", True)
    number("batch_size", lambda v: v >= 2, ">= 2", True)
    number("lr", lambda v: 0 < v <= 10, "in (0, 10]")
    number("momentum", lambda v: 0 <= v < 1, "in [0, 1)")
    number("weight_decay", lambda v: 0 <= v <= 0.1, "in [0, 0.1]")
    number("label_smoothing", lambda v: 0 <= v < 1, "in [0, 1)")
    number("patience", lambda v: v >= 1, ">= 1", True)
    number("flip_probability", lambda v: 0 <= v <= 1, "in [0, 1]")
    meta.setdefault("input_channels", 3)
    number("input_channels", lambda v: v in (1, 3), "1 or 3 (the fleet expands grayscale to 3: IdxReader)", True)
    given = meta.get("architecture", {})
    if not isinstance(given, dict):
        problems.append(("meta.architecture", f"must be an object (blocks, base_width, stem), was {given!r}"))
        given = {}
    arch = dict(DEFAULT_ARCHITECTURE, **given)
    if not (isinstance(arch["blocks"], list) and len(arch["blocks"]) == 4
            and all(isinstance(b, int) and 1 <= b <= 64 for b in arch["blocks"])):
        problems.append(("meta.architecture.blocks", f"must be 4 integers in 1..64, was {arch['blocks']!r}"))
    if not (isinstance(arch["base_width"], int) and 4 <= arch["base_width"] <= 256):
        problems.append(("meta.architecture.base_width", f"must be in 4..256, was {arch['base_width']!r}"))
    if arch["stem"] not in ("small", "imagenet"):
        problems.append(("meta.architecture.stem", f"must be 'small' or 'imagenet', was {arch['stem']!r}"))
    meta["architecture"] = arch
    norm = meta.get("normalization")
    if not isinstance(norm, dict):
        problems.append(("meta.normalization", "is missing (an object with mean and std, 3 numbers each)"))
    else:
        for part in ("mean", "std"):
            v = norm.get(part)
            if not (isinstance(v, list) and len(v) == 3 and all(isinstance(x, (int, float)) for x in v)):
                problems.append((f"meta.normalization.{part}", f"must be 3 numbers, was {v!r}"))
            elif part == "std" and not all(x > 0 for x in v):
                problems.append(("meta.normalization.std", f"must be > 0, was {v}"))
    if not isinstance(meta.get("splits"), dict) or not meta["splits"]:
        problems.append(("meta.splits", "is missing (an object: seed -> {train, validation})"))
    if problems:
        raise InputProblem(problems)

    arrays = {name: read_u8(os.path.join(data_dir, name), name) for name in FILES}
    data = {}
    for part in ("train", "test"):
        images, labels = arrays[f"{part}-images.u8"], arrays[f"{part}-labels.u8"]
        n = labels.size
        if images.size != n * h * w:
            problems.append((f"{part}-images.u8", f"holds {images.size} bytes; {part}-labels.u8 names {n} images "
                             f"of {h}x{w} = {n * h * w} bytes"))
        elif n == 0:
            problems.append((f"{part}-labels.u8", "is empty"))
        elif labels.max() >= k:
            problems.append((f"{part}-labels.u8", f"holds label {int(labels.max())}, num_classes is {k}"))
        else:
            data[part] = (images.reshape(n, h, w), labels.astype(np.int64))
    if problems:
        raise InputProblem(problems)
    n = data["train"][1].size
    for seed, split in meta["splits"].items():
        try:
            int(seed)
        except ValueError:
            problems.append((f"meta.splits.{seed}", "the key must be a seed (an integer)"))
            continue
        if not isinstance(split, dict):
            problems.append((f"meta.splits.{seed}", "must be an object with train and validation"))
            continue
        valid = True
        for side in ("train", "validation"):
            idx = split.get(side)
            if not (isinstance(idx, list) and idx and all(isinstance(i, int) and 0 <= i < n for i in idx)):
                problems.append((f"meta.splits.{seed}.{side}", f"must be a non-empty list of indices in 0..{n - 1}"))
                valid = False
        if valid and set(split["train"]) & set(split["validation"]):
            problems.append((f"meta.splits.{seed}", "train and validation share images"))
        if not isinstance(split.get("job_id", ""), str):
            problems.append((f"meta.splits.{seed}.job_id", f"must be a string, was {split['job_id']!r}"))
    if problems:
        raise InputProblem(problems)
    return meta, data


def to_inputs(images, meta):
    """Tensors.images with Normalization: pixels (x / 255 - mean) / std per channel, NCHW float32.

    IdxReader (Images.grayToRgb) copies a grayscale image into 3 equal channels and the network's first
    convolution takes 3 (ResNets.validate: input_channels must be 3). The fleet does not resize an IDX dataset
    whose images are square (RequestResolver.withImageSize: image_size = the images' side, the input pipeline is
    the identity; LocalRun feeds the images as they are). For a scratch run the normalisation is HALF
    (RequestResolver: the base normalisation of a request without a base model): mean 0.5 and std 0.5, which
    Tensors.images computes as x / 127.5 - 1, and so does the twin.
    """
    channels = meta["input_channels"]
    x = torch.from_numpy(images.astype(np.float32)).unsqueeze(1).expand(-1, channels, -1, -1)
    mean, std = meta["normalization"]["mean"][:channels], meta["normalization"]["std"][:channels]
    if all(m == 0.5 for m in mean) and all(s == 0.5 for s in std):
        return (x / 127.5 - 1).contiguous()  # HALF as Tensors.images computes it, to the last bit
    mean = torch.tensor(mean, dtype=torch.float32).view(1, channels, 1, 1)
    std = torch.tensor(std, dtype=torch.float32).view(1, channels, 1, 1)
    return ((x / 255.0 - mean) / std).contiguous()


def epoch_batches(n, batch_size, order):
    """EpochBatches.steps/range: max(1, n // batch) steps of consecutive slices of the epoch's order, the short
    remainder folded into the last step (not dropped, not a batch of its own: a batch of one image would break
    BatchNorm). torch's DataLoader offers only drop_last True/False, hence this sampler."""
    steps = max(1, n // batch_size)
    for s in range(steps):
        yield order[s * batch_size: n if s == steps - 1 else (s + 1) * batch_size]


# ---------------------------------------------------------------------------------------------------------------
# One run


def read_safetensors(path):
    """A safetensors file (SafetensorsExport: u64 little-endian header length, JSON header, raw little-endian data)
    as {name: tensor}; parsed here because Debian's torch 1.13 has no safetensors package."""
    try:
        with open(path, "rb") as f:
            blob = f.read()
    except OSError as e:
        raise InputProblem([("--base", f"cannot read {path}: {e.strerror}")])
    if len(blob) < 8:
        raise InputProblem([("--base", f"{path} is not a safetensors file ({len(blob)} bytes)")])
    (length,) = struct.unpack("<Q", blob[:8])
    try:
        header = json.loads(blob[8:8 + length])
    except ValueError as e:
        raise InputProblem([("--base", f"{path}: the safetensors header is not JSON ({e})")])
    dtypes = {"F32": np.float32, "I64": np.int64}
    tensors = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        if t["dtype"] not in dtypes:
            raise InputProblem([("--base", f"{name} has dtype {t['dtype']}; the twin reads {sorted(dtypes)}")])
        start, end = t["data_offsets"]
        values = np.frombuffer(blob[8 + length + start:8 + length + end], dtype=dtypes[t["dtype"]])
        tensors[name] = torch.from_numpy(values.copy()).reshape(t["shape"])
    return tensors


def load_backbone(model, base):
    """TrainingSession.initBackboneFrom: every tensor but the head's (fc.*), BatchNorm running statistics included,
    from the base model's weights by torchvision name; a missing tensor or another shape is an error."""
    state = model.state_dict()
    problems = []
    for name, t in state.items():
        if name.startswith("fc.") or name.endswith("num_batches_tracked"):
            continue
        if name not in base:
            problems.append(("--base", f"{name} missing"))
        elif tuple(base[name].shape) != tuple(t.shape):
            problems.append(("--base", f"{name} has shape {tuple(base[name].shape)}, expected {tuple(t.shape)}"))
    if problems:
        raise InputProblem(problems)
    with torch.no_grad():
        for name, t in state.items():
            if not name.startswith("fc.") and not name.endswith("num_batches_tracked"):
                t.copy_(base[name].to(t.dtype))


def run(meta, data, seed, threads, fleet_streams=False, base=None):
    split = meta["splits"].get(str(seed))
    if split is None:
        raise InputProblem([("meta.splits", f"has no split for seed {seed} (seeds: {sorted(meta['splits'])})")])
    start = time.time()
    train_images, train_labels = data["train"]
    x_all = to_inputs(train_images, meta)
    y_all = torch.from_numpy(train_labels)
    tr = torch.tensor(split["train"], dtype=torch.int64)
    va = torch.tensor(split["validation"], dtype=torch.int64)
    x_train, y_train = x_all[tr], y_all[tr]
    n = x_train.shape[0]
    x_val, y_val = x_all[va], y_all[va]
    x_test, y_test = to_inputs(data["test"][0], meta), torch.from_numpy(data["test"][1])
    k = meta["num_classes"]

    # By default the seed drives the initialisation (torch's global generator) and, through a generator of its
    # own, the sampling order and the flips: plain PyTorch. The fleet derives the same three from recipe.seed
    # (SessionConfigs.modelSeed, dataSeed) with Java's SplittableRandom, so those runs agree with the fleet's in
    # distribution only. With fleet_streams the twin draws all three exactly as the fleet does (a paired check:
    # what is left between the two is arithmetic).
    torch.manual_seed(seed)
    arch = meta["architecture"]
    model = TwinResNet(arch["blocks"], arch["base_width"], arch["stem"], k, meta["input_channels"])
    if fleet_streams:
        fleet_init(model, seed)
    if base is not None:
        load_backbone(model, base)  # fine-tuning: the new head keeps its seeded initialisation
    data_rng = torch.Generator().manual_seed(seed)
    job_id = split.get("job_id", f"ablate-{seed}")

    def sample(epoch):
        """The epoch's order (positions into the training split) and, per position, whether its image flips."""
        if fleet_streams:
            return (torch.tensor(fleet_order(n, epoch, seed), dtype=torch.int64),
                    torch.tensor(fleet_flips(n, epoch, seed, job_id, meta["flip_probability"])))
        # EpochSampler.order with uniform sampling: a fresh permutation of the training split every epoch; the
        # default recipe.augmentations (AugmentationPipeline.defaultSpec) is horizontal_flip with p = 0.5, drawn
        # per image (ProbabilisticTransform: rng.nextDouble() < p), a left-right mirror (Geometry.flipHorizontal)
        order = torch.randperm(n, generator=data_rng)
        return order, torch.rand(n, generator=data_rng) < meta["flip_probability"]

    # LayerwiseSgd: v = mu v + g + lambda w; w -= lr v -- torch's SGD (coupled weight decay, dampening 0, no
    # Nesterov), with the learning rate scaled once per epoch by the schedule
    optimizer = torch.optim.SGD(parameter_groups(model, meta["weight_decay"]), lr=meta["lr"],
                                momentum=meta["momentum"], dampening=0, nesterov=False)
    # LabelSmoothingLoss: -sum((1 - eps) onehot + eps / K) log_softmax, mean over the batch = torch's
    criterion = nn.CrossEntropyLoss(label_smoothing=meta["label_smoothing"])
    epochs, patience, batch_size = meta["epochs"], meta["patience"], meta["batch_size"]
    best = None  # (epoch, validation accuracy, validation macro-F1, state_dict, validation loss)
    stale = 0
    epochs_run = 0
    for epoch in range(epochs):
        # UnfreezeSchedule with epochs_per_stage 0: every stage trainable from epoch 0 (the fair scratch row)
        for group in optimizer.param_groups:
            group["lr"] = meta["lr"] * cosine_factor(epoch, epochs)
        model.train()
        order, flips = sample(epoch)
        loss_sum, correct = 0.0, 0
        for positions in epoch_batches(n, batch_size, torch.arange(n)):
            idx = order[positions]
            x = x_train[idx]
            x = torch.where(flips[positions].view(-1, 1, 1, 1), x.flip(3), x)
            y = y_train[idx]
            optimizer.zero_grad(set_to_none=True)
            logits = model(x)
            loss = criterion(logits, y)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * x.shape[0]
            correct += int((logits.argmax(1) == y).sum())
        epochs_run = epoch + 1
        val_acc, val_f1, val_loss = evaluate(model, x_val, y_val, k)
        # EarlyStopping.judge: the best epoch has the highest validation macro-F1 and, of equal ones (within
        # EarlyStopping.TIE), the lower validation loss; stop after `patience` epochs without a better one, unless
        # the planned epochs end first
        improved = (best is None or val_f1 > best[2] + 1e-9
                    or (abs(val_f1 - best[2]) <= 1e-9 and val_loss < best[4]))
        stale = 0 if improved else stale + 1
        if improved:
            best = (epoch, val_acc, val_f1, copy.deepcopy(model.state_dict()), val_loss)
        print(f"twin: seed {seed} epoch {epoch}: lr {optimizer.param_groups[0]['lr']:.5f} loss {loss_sum / n:.4f} "
              f"train acc {correct / n:.4f} val acc {val_acc:.4f} val macro-F1 {val_f1:.4f}"
              f"{' *' if improved else ''}", file=sys.stderr, flush=True)
        if epoch + 1 < epochs and stale >= patience:
            break
    # the test images are scored once, with the chosen epoch's weights (the fleet's selection, issue #26)
    model.load_state_dict(best[3])
    test_acc, test_f1, _ = evaluate(model, x_test, y_test, k)
    return {"seed": seed, "best_epoch": best[0], "epochs_run": epochs_run, "validation_accuracy": round(best[1], 6),
            "validation_macro_f1": round(best[2], 6), "test_accuracy": round(test_acc, 6),
            "test_macro_f1": round(test_f1, 6), "seconds": round(time.time() - start, 2), "threads": threads,
            "parameters": sum(p.numel() for p in model.parameters()),
            "streams": "fleet" if fleet_streams else "torch", "base": base is not None}


# ---------------------------------------------------------------------------------------------------------------
# The fleet's random streams (Java's SplittableRandom), for --make-data's split and for --fleet-streams

MASK64 = (1 << 64) - 1
GOLDEN_GAMMA = 0x9E3779B97F4A7C15


def mix64(z):
    """SplitMix64's finaliser: SplittableRandom.mix64, GaussNoise.mix64."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


class SplittableRandom:
    """java.util.SplittableRandom (Java 17): nextInt(bound), nextDouble(), bit for bit."""

    def __init__(self, seed):
        self.seed = seed & MASK64

    def _next_seed(self):
        self.seed = (self.seed + GOLDEN_GAMMA) & MASK64
        return self.seed

    @staticmethod
    def _mix32(z):
        z = ((z ^ (z >> 33)) * 0x62A9D9ED799705F5) & MASK64
        z = (((z ^ (z >> 28)) * 0xCB24D0A5C88C35B3) & MASK64) >> 32
        return z - (1 << 32) if z >= 1 << 31 else z  # Java's (int) cast

    def next_int(self, bound):
        """RandomSupport.boundedNextInt: a mask for a power of two, else rejection of the biased top values."""
        r = self._mix32(self._next_seed())
        m = bound - 1
        if bound & m == 0:
            return r & m
        u = (r & 0xFFFFFFFF) >> 1  # r >>> 1
        while True:
            r = u % bound
            if u + m - r < (1 << 31):  # Java: u + m - r >= 0 unless the int overflows
                return r
            u = (self._mix32(self._next_seed()) & 0xFFFFFFFF) >> 1

    def next_double(self):
        return (mix64(self._next_seed()) >> 11) * 2.0 ** -53

    def doubles(self, count):
        """`count` nextDouble() values at once (numpy's uint64 arithmetic wraps as Java's long does)."""
        seeds = np.uint64(self.seed) + np.uint64(GOLDEN_GAMMA) * np.arange(1, count + 1, dtype=np.uint64)
        self.seed = int(seeds[-1]) if count else self.seed
        z = (seeds ^ (seeds >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
        return (z >> np.uint64(11)).astype(np.float64) * 2.0 ** -53


def shuffle(a, rng):
    """Shuffle.inPlace: Fisher-Yates from the top."""
    for i in range(len(a) - 1, 0, -1):
        j = rng.next_int(i + 1)
        a[i], a[j] = a[j], a[i]


def java_string_hash(s):
    """String.hashCode: over UTF-16 code units, in int arithmetic."""
    units = s.encode("utf-16-be")
    h = 0
    for i in range(0, len(units), 2):
        h = (31 * h + (units[i] << 8 | units[i + 1])) & 0xFFFFFFFF
    return h - (1 << 32) if h >= 1 << 31 else h


def fleet_order(n, epoch, seed):
    """EpochSampler.order, uniform sampling: a shuffle of 0..n-1 from
    SplittableRandom(seed * 0x9E3779B97F4A7C15 + epoch * 0xBF58476D1CE4E5B9 + 17)."""
    rng = SplittableRandom(seed * GOLDEN_GAMMA + epoch * 0xBF58476D1CE4E5B9 + 17)
    order = list(range(n))
    shuffle(order, rng)
    return order


def fnv1a64(s):
    h = 0xCBF29CE484222325
    for b in s.encode("utf-8"):
        h = ((h ^ b) * 0x100000001B3) & MASK64
    return h


def fleet_flips(n, epoch, seed, job_id, p):
    """The default augmentation as LocalRun/EpochBatches apply it: the sample at position i of the epoch gets
    AugmentationPipeline.rngFor(seed, job, epoch, i); the pipeline is Compose(p = 1)[HorizontalFlip(p)], and each
    ProbabilisticTransform draws rng.nextDouble() < p, so the flip is decided by the stream's second double."""
    flips = []
    job = fnv1a64(job_id)
    for i in range(n):
        h = mix64((seed ^ 0x5DEECE66DA3B9F1B) & MASK64)
        h = mix64(h ^ job)
        h = mix64(((h + GOLDEN_GAMMA) & MASK64) ^ epoch)
        h = mix64(((h + GOLDEN_GAMMA) & MASK64) ^ i)
        rng = SplittableRandom(h)
        rng.next_double()  # Compose's own draw (p = 1: always applies its children)
        flips.append(rng.next_double() < p)
    return flips


def fleet_init(model, seed):
    """Initialization.apply, value for value: one SplittableRandom(seed ^ hash(name) * 0x9E3779B97F4A7C15) per
    torchvision parameter name; 4-d weights Box-Muller normal times sqrt(2 / fan_out), 2-d weights uniform in
    +-1/sqrt(fan_in), BatchNorm scale and running variance 1, the rest 0; doubles rounded to float32."""
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if name.endswith("num_batches_tracked"):
                continue
            rng = SplittableRandom(seed ^ ((java_string_hash(name) * GOLDEN_GAMMA) & MASK64))
            n = t.numel()
            if name.endswith("weight") and t.dim() == 4:
                d = rng.doubles(2 * n).reshape(n, 2)  # Box-Muller draws u then w for each value, in order
                g = np.sqrt(-2 * np.log(1.0 - d[:, 0])) * np.cos(2 * np.pi * d[:, 1])
                v = g * math.sqrt(2.0 / (t.shape[0] * t.shape[2] * t.shape[3]))
            elif name.endswith("weight") and t.dim() == 2:
                v = (rng.doubles(n) * 2 - 1) * (1.0 / math.sqrt(t.shape[1]))
            elif name.endswith("running_var") or (name.endswith("weight") and t.dim() == 1):
                v = np.ones(n)
            else:
                v = np.zeros(n)
            t.copy_(torch.from_numpy(v.astype(np.float32)).view_as(t))


# ---------------------------------------------------------------------------------------------------------------
# --make-data: a DATA_DIR from the Fashion-MNIST IDX files, as `fleet ablate` loads them


def stratified_split(labels, num_classes, fraction, seed):
    """StratifiedSplit.of: per class (in label order), a Fisher-Yates shuffle (Shuffle.inPlace) from one
    SplittableRandom(seed); the first round(fraction * count) positions (at least 1) are held out. Java's
    Math.round rounds halves up, hence floor(x + 0.5)."""
    rng = SplittableRandom(seed)
    train, validation = [], []
    for c in range(num_classes):
        order = [i for i, label in enumerate(labels) if label == c]
        shuffle(order, rng)
        held = int(math.floor(fraction * len(order) + 0.5))
        if held == 0 and len(order) >= 2 and fraction > 0:
            held = 1
        validation += order[:held]
        train += order[held:]
    return sorted(train), sorted(validation)


def read_idx(path):
    with gzip.open(path) if path.endswith(".gz") else open(path, "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = struct.unpack(">" + "I" * dims, raw[4:4 + 4 * dims])
    return np.frombuffer(raw[4 + 4 * dims:], dtype=np.uint8).reshape(shape)


def select(images, labels, classes, per_class):
    """IdxReader.read: keep `classes`, relabelled 0..k-1 in their order, the first `per_class` of each in file
    order (0 = all)."""
    relabel = {c: i for i, c in enumerate(classes)}
    taken = [0] * len(classes)
    keep, out = [], []
    for i, label in enumerate(labels):
        c = relabel.get(int(label))
        if c is None or (per_class > 0 and taken[c] >= per_class):
            continue
        taken[c] += 1
        keep.append(i)
        out.append(c)
    return images[keep], np.array(out, dtype=np.uint8)


def make_data(out_dir, source, per_class, seeds, validation_fraction):
    """The scratch row of `fleet ablate` (Ablate.request/recipe): 100 images per odd class, 15 epochs, batch 32,
    lr 0.05 everywhere, momentum 0.9, weight decay 5e-4, label smoothing 0.1, patience 5, flips p 0.5, HALF
    normalisation; the validation split of each seed as StratifiedSplit.of(labels, 5, 0.1, seed)."""
    os.makedirs(out_dir, exist_ok=True)
    train = select(read_idx(os.path.join(source, "train-images-idx3-ubyte.gz")),
                   read_idx(os.path.join(source, "train-labels-idx1-ubyte.gz")), ODD_CLASSES, per_class)
    test = select(read_idx(os.path.join(source, "t10k-images-idx3-ubyte.gz")),
                  read_idx(os.path.join(source, "t10k-labels-idx1-ubyte.gz")), ODD_CLASSES, 0)
    for part, (images, labels) in (("train", train), ("test", test)):
        with open(os.path.join(out_dir, f"{part}-images.u8"), "wb") as f:
            f.write(np.ascontiguousarray(images).tobytes())
        with open(os.path.join(out_dir, f"{part}-labels.u8"), "wb") as f:
            f.write(labels.tobytes())
    splits = {}
    for seed in seeds:
        t, v = stratified_split(train[1].tolist(), len(ODD_CLASSES), validation_fraction, seed)
        splits[str(seed)] = {"train": t, "validation": v, "job_id": f"ablate-{seed}"}  # Ablate.request
    meta = {"height": int(train[0].shape[1]), "width": int(train[0].shape[2]), "num_classes": len(ODD_CLASSES),
            "epochs": 15, "batch_size": 32, "lr": 0.05, "momentum": 0.9, "weight_decay": 0.0005,
            "label_smoothing": 0.1, "patience": 5, "flip_probability": 0.5, "input_channels": 3,
            "architecture": DEFAULT_ARCHITECTURE,
            "normalization": {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}, "splits": splits}
    with open(os.path.join(out_dir, "meta.json"), "w") as f:
        json.dump(meta, f)
    print(f"twin: wrote {out_dir}: {len(train[1])} training images, {len(test[1])} test images, "
          f"splits for seeds {seeds}", file=sys.stderr)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", nargs="?", help="a DATA_DIR to train on")
    parser.add_argument("--seeds", default="0,1,2,3,4", help="comma-separated seeds (default 0,1,2,3,4)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="torch threads (default: all cores)")
    parser.add_argument("--fleet-streams", action="store_true",
                        help="draw the initial weights, the sampling order and the flips as the fleet does for the "
                        "same seed (Initialization, EpochSampler, AugmentationPipeline.rngFor), instead of from torch")
    parser.add_argument("--base", metavar="FILE.safetensors",
                        help="fine-tune from these weights (torchvision names; every tensor but fc.*, as the fleet's "
                        "initBackboneFrom) instead of training from scratch")
    parser.add_argument("--make-data", metavar="DIR", help="write a DATA_DIR from Fashion-MNIST instead of training")
    parser.add_argument("--source", default="datasets/fashion-mnist", help="--make-data: folder of the IDX files")
    parser.add_argument("--per-class", type=int, default=100, help="--make-data: training images per class")
    parser.add_argument("--validation-fraction", type=float, default=0.1, help="--make-data: held out per class")
    args = parser.parse_args(argv)
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--seeds: must be integers separated by commas, was {args.seeds!r}")
    if not seeds:
        parser.error("--seeds: names no seed")
    if args.threads < 1:
        parser.error(f"--threads: must be >= 1, was {args.threads}")
    if args.make_data:
        make_data(args.make_data, args.source, args.per_class, seeds, args.validation_fraction)
        return 0
    if not args.data_dir:
        parser.error("DATA_DIR is required (or --make-data DIR)")
    torch.set_num_threads(args.threads)
    try:
        meta, data = load(args.data_dir)
        missing = [s for s in seeds if str(s) not in meta["splits"]]
        if missing:
            raise InputProblem([("meta.splits", f"has no split for seeds {missing} (has {sorted(meta['splits'])})")])
        base = read_safetensors(args.base) if args.base else None
        for seed in seeds:
            print(json.dumps(run(meta, data, seed, args.threads, args.fleet_streams, base)), flush=True)
    except InputProblem as e:
        for field, problem in e.problems:
            print(f"pytorch_twin: {field}: {problem}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
