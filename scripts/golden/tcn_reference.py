"""The reference PyTorch TCN whose structure and state_dict names define convwatch's model files.

A TCN is a stack of TemporalBlocks followed by a 1x1 Conv1d head. Every convolution is causal:
the input is padded on the left only, by (k - 1) * d, so the output at time t sees inputs <= t.

state_dict keys (the model file format uses exactly these names):
  blocks.<i>.conv1.weight [hidden, cin, k]    blocks.<i>.conv1.bias [hidden]
  blocks.<i>.conv2.weight [hidden, hidden, k] blocks.<i>.conv2.bias [hidden]
  blocks.<i>.downsample.weight [hidden, cin, 1], .bias   only where cin != hidden
  head.weight [out_channels, hidden, 1]       head.bias [out_channels]
"""

from dataclasses import asdict, dataclass, field
from typing import List

import torch
import torch.nn as nn
import torch.nn.functional as F

ACTIVATIONS = {
    "relu": nn.ReLU,
    # exact (erf) GELU, torch's default approximate='none'
    "gelu": nn.GELU,
}


class TemporalBlock(nn.Module):
    """cin -> cout with two causal dilated convolutions and a residual connection."""

    def __init__(self, cin, cout, kernel, dilation, activation="relu"):
        super().__init__()
        self.kernel = kernel
        self.dilation = dilation
        self.conv1 = nn.Conv1d(cin, cout, kernel, dilation=dilation)
        self.conv2 = nn.Conv1d(cout, cout, kernel, dilation=dilation)
        self.downsample = nn.Conv1d(cin, cout, 1) if cin != cout else None
        self.act = ACTIVATIONS[activation]()

    def forward(self, x):
        p = (self.kernel - 1) * self.dilation
        h = self.act(self.conv1(F.pad(x, (p, 0))))
        h = self.act(self.conv2(F.pad(h, (p, 0))))
        res = x if self.downsample is None else self.downsample(x)
        return self.act(h + res)


@dataclass
class TcnSpec:
    """Architecture of a TCN; serialised (camelCase) into bench/models/<name>.json."""
    name: str
    in_channels: int
    hidden: int
    out_channels: int
    kernel_size: int
    dilations: List[int] = field(default_factory=list)
    activation: str = "relu"
    seed: int = 0

    @property
    def receptive_field(self):
        return receptive_field(self.kernel_size, self.dilations)

    def to_json(self):
        d = asdict(self)
        return {
            "name": d["name"],
            "inChannels": d["in_channels"],
            "outChannels": d["out_channels"],
            "hidden": d["hidden"],
            "kernelSize": d["kernel_size"],
            "dilations": list(d["dilations"]),
            "activation": d["activation"],
            "receptiveField": self.receptive_field,
            "seed": d["seed"],
        }


class TCN(nn.Module):
    """blocks: TemporalBlock per dilation (first from in_channels, then hidden -> hidden);
    head: 1x1 Conv1d hidden -> out_channels."""

    def __init__(self, spec):
        super().__init__()
        self.spec = spec
        blocks = []
        cin = spec.in_channels
        for d in spec.dilations:
            blocks.append(TemporalBlock(cin, spec.hidden, spec.kernel_size, d, spec.activation))
            cin = spec.hidden
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Conv1d(spec.hidden, spec.out_channels, 1)

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        return self.head(x)


def receptive_field(kernel_size, dilations):
    """1 + sum over blocks of 2 * (k - 1) * d: how many inputs one output depends on."""
    return 1 + sum(2 * (kernel_size - 1) * d for d in dilations)


def build(spec):
    """The TCN for `spec` with torch's default initialisation under torch.manual_seed(spec.seed)."""
    torch.manual_seed(spec.seed)
    model = TCN(spec)
    model.eval()
    return model


SPECS = {
    "tcn-s": TcnSpec("tcn-s", in_channels=8, hidden=32, out_channels=8, kernel_size=3,
                     dilations=[1, 2, 4, 8, 16], activation="relu", seed=1),
    "tcn-wide": TcnSpec("tcn-wide", in_channels=64, hidden=64, out_channels=64, kernel_size=3,
                        dilations=[1, 2, 4, 8, 16], activation="relu", seed=2),
    "tcn-tiny-gelu": TcnSpec("tcn-tiny-gelu", in_channels=3, hidden=6, out_channels=3,
                             kernel_size=2, dilations=[1, 3], activation="gelu", seed=3),
}
