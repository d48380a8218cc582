"""Prints argument combinations torch 1.13 ACCEPTS although one might expect a rejection.

Not a fixture generator: convwatch decides case by case whether to follow torch here (see
scripts/golden/README.md, "What torch 1.13 accepts"). Run: /usr/bin/python3 <this file>.
"""

import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

warnings.simplefilter("ignore")


def probe(label, fn):
    gen = torch.Generator().manual_seed(0)
    try:
        y = fn(gen)
        print(f"accepts  {label}: output shape {list(y.shape)}")
    except (RuntimeError, ValueError, TypeError) as ex:
        print(f"rejects  {label}: {type(ex).__name__}: {ex}")


def r(gen, *shape):
    return torch.randn(*shape, generator=gen)


def module(cin, cout, k, **kw):
    return nn.Conv1d(cin, cout, k, **kw)


PROBES = [
    ("unbatched 2-D input [4, 5], weight [2, 4, 3]",
     lambda g: F.conv1d(r(g, 4, 5), r(g, 2, 4, 3))),
    ("empty batch N=0: input [0, 4, 5], weight [2, 4, 3]",
     lambda g: F.conv1d(r(g, 0, 4, 5), r(g, 2, 4, 3))),
    ("N=0 and L=0 with padding 2 (N=1 is rejected)",
     lambda g: F.conv1d(r(g, 0, 4, 0), r(g, 2, 4, 3), padding=2)),
    ("zero input channels: input [1, 0, 5], weight [2, 0, 3], bias [2]",
     lambda g: F.conv1d(r(g, 1, 0, 5), r(g, 2, 0, 3), r(g, 2))),
    ("reflect with padding -1 (crops one column per side)",
     lambda g: module(4, 2, 3, padding=-1, padding_mode="reflect")(r(g, 1, 4, 7))),
    ("replicate with padding -1",
     lambda g: module(4, 2, 3, padding=-1, padding_mode="replicate")(r(g, 1, 4, 7))),
    ("circular with padding -1",
     lambda g: module(4, 2, 3, padding=-1, padding_mode="circular")(r(g, 1, 4, 7))),
    ("nn.Conv1d(4, 2, kernel_size=0) is constructed (forward then fails)",
     lambda g: module(4, 2, 0).weight),
    ("circular padding equal to L (wraps exactly once)",
     lambda g: module(4, 2, 3, padding=5, padding_mode="circular")(r(g, 1, 4, 5))),
    ("reflect padding L-1",
     lambda g: module(4, 2, 3, padding=4, padding_mode="reflect")(r(g, 1, 4, 5))),
    ("'same' with kernel extent far beyond L: input [1, 4, 2], weight [2, 4, 3], dilation 4",
     lambda g: F.conv1d(r(g, 1, 4, 2), r(g, 2, 4, 3), padding="same", dilation=4)),
    ("padding larger than the kernel so outputs see only zeros: L=1, K=3, padding 3, stride 3",
     lambda g: F.conv1d(r(g, 1, 4, 1), r(g, 2, 4, 3), padding=3, stride=3)),
    ("padding='valid' with stride 2",
     lambda g: F.conv1d(r(g, 1, 4, 7), r(g, 2, 4, 3), padding="valid", stride=2)),
]

if __name__ == "__main__":
    print(f"torch {torch.__version__}")
    for label, fn in PROBES:
        probe(label, fn)
