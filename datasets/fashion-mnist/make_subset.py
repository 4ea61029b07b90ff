"""Writes the Fashion-MNIST subset in this folder from Debian's dataset-fashion-mnist package."""
import gzip
import os
import struct

import numpy as np

SRC = '/usr/share/datasets/fashion-mnist/'
HERE = os.path.dirname(os.path.abspath(__file__))


def read(name):
    with gzip.open(SRC + name) as f:
        data = f.read()
    nd = struct.unpack('>I', data[:4])[0] & 0xff
    dims = struct.unpack('>' + 'I' * nd, data[4:4 + 4 * nd])
    return np.frombuffer(data[4 + 4 * nd:], dtype=np.uint8).reshape(dims)


def write(name, arr):
    header = struct.pack('>I', 0x0800 | arr.ndim) + struct.pack('>' + 'I' * arr.ndim, *arr.shape)
    with gzip.GzipFile(os.path.join(HERE, name), 'wb', mtime=0) as f:
        f.write(header + arr.tobytes())


for part, n in (('train', 12000), ('t10k', 2000)):
    write(part + '-images-idx3-ubyte.gz', read(part + '-images-idx3-ubyte.gz')[:n])
    write(part + '-labels-idx1-ubyte.gz', read(part + '-labels-idx1-ubyte.gz')[:n])
