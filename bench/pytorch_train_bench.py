"""Plain PyTorch training loop, the reference `fleet bench --pytorch` compares the trainer against.

Builds the same ResNet as the fleet (torchvision layout; `small` = 3x3 stride-1 stem without max-pool,
`imagenet` = 7x7 stride-2 + max-pool; base width and blocks as given), trains it with SGD (momentum 0.9,
weight decay 5e-4, label smoothing 0.1) on random uint8 images scaled like the fleet's, and prints one JSON
object: {"images_per_s": median over timing windows, "windows": [...]}.

Usage: /usr/bin/python3 bench/pytorch_train_bench.py BLOCKS WIDTH BOTTLENECK STEM SIZE BATCH STEPS THREADS
e.g.   /usr/bin/python3 bench/pytorch_train_bench.py 2,2,2,2 64 0 small 32 64 30 2
"""
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Basic(nn.Module):
    expansion = 1

    def __init__(self, cin, width, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.downsample = None
        if stride != 1 or cin != width:
            self.downsample = nn.Sequential(nn.Conv2d(cin, width, 1, stride, bias=False), nn.BatchNorm2d(width))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, width, stride):
        super().__init__()
        out = width * 4
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.downsample = None
        if stride != 1 or cin != out:
            self.downsample = nn.Sequential(nn.Conv2d(cin, out, 1, stride, bias=False), nn.BatchNorm2d(out))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet(nn.Module):
    def __init__(self, blocks, width, bottleneck, stem, classes):
        super().__init__()
        imagenet = stem == "imagenet"
        self.conv1 = nn.Conv2d(3, width, 7 if imagenet else 3, 2 if imagenet else 1, 3 if imagenet else 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.pool = nn.MaxPool2d(3, 2, 1) if imagenet else nn.Identity()
        block = Bottleneck if bottleneck else Basic
        layers, cin = [], width
        for i, n in enumerate(blocks):
            units = []
            for j in range(n):
                units.append(block(cin, width << i, 2 if (j == 0 and i > 0) else 1))
                cin = (width << i) * block.expansion
            layers.append(nn.Sequential(*units))
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = self.layers(x)
        return self.fc(x.mean(dim=(2, 3)))


def main():
    blocks = [int(b) for b in sys.argv[1].split(",")]
    width, bottleneck, stem = int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4]
    size, batch, steps, threads = int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8])
    warmup_s = float(sys.argv[9]) if len(sys.argv) > 9 else 0.0
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = ResNet(blocks, width, bottleneck, stem, 10)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    images = torch.randint(0, 256, (batch, size, size, 3), dtype=torch.uint8)
    labels = torch.randint(0, 10, (batch,))

    def step():
        x = images.float().permute(0, 3, 1, 2).div(127.5).sub(1)
        loss = F.cross_entropy(model(x), labels, label_smoothing=0.1)
        opt.zero_grad()
        loss.backward()
        opt.step()

    # warm-up: at least max(3, steps / 5) steps and warmup_s seconds, as the trainer's side does
    start, done = time.perf_counter(), 0
    while done < max(3, steps // 5) or time.perf_counter() - start < warmup_s:
        step()
        done += 1
    window = max(1, steps // 5)
    rates = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(window):
            step()
        rates.append(window * batch / (time.perf_counter() - t))
    print(json.dumps({"images_per_s": statistics.median(rates), "windows": rates}))


if __name__ == "__main__":
    main()
