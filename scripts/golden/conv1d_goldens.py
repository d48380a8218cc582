"""Generates the Conv1d golden vectors in test/fixtures/conv1d/ from PyTorch.

  forward.json   cases computed with F.conv1d (zeros padding) or nn.Conv1d(padding_mode=...)
  backward.json  the same plus autograd gradients for a seeded random grad_output
  errors.json    argument combinations torch rejects, with torch's own message

Every value torch produces is also checked against conv1d_reference.py (float64 NumPy); the
script fails instead of writing a fixture if they disagree. Run: /usr/bin/python3 <this file>.
"""

import json
import os
import sys
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conv1d_reference import conv1d_backward, conv1d_forward  # noqa: E402
from golden_io import (  # noqa: E402
    case_seed, decode_tensor, encode_tensor, ensure_fixed_hash_seed, randn, repo_path,
    torch_versions, write_json,
)

GENERATOR = "scripts/golden/conv1d_goldens.py"
# float32 torch against float64 reference: |a - e| <= ATOL + RTOL * |e|
CHECK_ATOL = 1e-5
CHECK_RTOL = 1e-5

torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)
# Expected: torch notes that 'same' with an even kernel copies the input; the cases want that.
warnings.filterwarnings("ignore", message="Using padding='same' with even kernel")


def opts(stride=1, padding=0, dilation=1, groups=1, mode="zeros"):
    return {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups,
            "paddingMode": mode}


def case(name, n, cin, length, cout, kernel, options, bias=True):
    return {"name": name, "n": n, "cin": cin, "l": length, "cout": cout, "k": kernel,
            "options": options, "bias": bias}


def make_module(cin, cout, kernel, options, bias):
    """nn.Conv1d with exactly these options (used for every padding mode in the module path)."""
    return nn.Conv1d(cin, cout, kernel, stride=options["stride"], padding=options["padding"],
                     dilation=options["dilation"], groups=options["groups"], bias=bias,
                     padding_mode=options["paddingMode"])


def torch_conv(x, w, b, options):
    """Forward through torch: F.conv1d for zeros padding, nn.Conv1d(padding_mode=...) otherwise.

    Returns (output, params) where params are the leaf tensors holding w and b, so that the
    backward generator can read their .grad.
    """
    if options["paddingMode"] == "zeros":
        w_leaf = w.clone().requires_grad_(True)
        b_leaf = None if b is None else b.clone().requires_grad_(True)
        y = F.conv1d(x, w_leaf, b_leaf, stride=options["stride"], padding=options["padding"],
                     dilation=options["dilation"], groups=options["groups"])
        return y, (w_leaf, b_leaf)
    cout, cin_g, kernel = w.shape
    m = make_module(cin_g * options["groups"], cout, kernel, options, b is not None)
    with torch.no_grad():
        m.weight.copy_(w)
        if b is not None:
            m.bias.copy_(b)
    return m(x), (m.weight, m.bias)


# ---------------------------------------------------------------------------------------------
# Forward cases
# ---------------------------------------------------------------------------------------------

# Names that test/nn/conv1d-golden.test.ts requires to be present.
TUTORIAL_CASES = [
    "tutorial-k1-in2x3x4",
    "tutorial-k2-s1-in2x3x4",
    "tutorial-k2-s2-in2x3x4",
    "tutorial-k2-p1-in2x3x4",
    "tutorial-k2-s2-p1-in2x3x4",
    "tutorial-2to16-k3-L64",
    "tutorial-permuted-NLC-239x49x5-k3",
    "tutorial-depthwise-ones-k49-g5",
    "tutorial-100to100-k1-L1",
]


def tutorial_cases():
    """The PyTorch Conv1d tutorial examples; specials carry their own inputs/weights."""
    cases = [
        case("tutorial-k1-in2x3x4", 2, 3, 4, 2, 1, opts()),
        case("tutorial-k2-s1-in2x3x4", 2, 3, 4, 2, 2, opts(stride=1)),
        case("tutorial-k2-s2-in2x3x4", 2, 3, 4, 2, 2, opts(stride=2)),
        case("tutorial-k2-p1-in2x3x4", 2, 3, 4, 2, 2, opts(padding=1)),
        case("tutorial-k2-s2-p1-in2x3x4", 2, 3, 4, 2, 2, opts(stride=2, padding=1)),
        case("tutorial-2to16-k3-L64", 1, 2, 64, 16, 3, opts()),
        case("tutorial-100to100-k1-L1", 1, 100, 1, 100, 1, opts()),
    ]
    # [N, L, C] = [239, 49, 5] as a time-series library hands it over, permuted to [N, C, L].
    gen = torch.Generator().manual_seed(case_seed("tutorial-NLC-239x49x5"))
    nlc = randn(gen, 239, 49, 5)
    x_ncl = nlc.permute(0, 2, 1).contiguous()
    permuted = case("tutorial-permuted-NLC-239x49x5-k3", 239, 5, 49, 5, 3, opts())
    permuted["input"] = x_ncl
    cases.append(permuted)
    depthwise = case("tutorial-depthwise-ones-k49-g5", 239, 5, 49, 5, 49, opts(groups=5),
                     bias=False)
    depthwise["input"] = x_ncl
    depthwise["weight"] = torch.ones(5, 1, 49)
    cases.append(depthwise)
    return cases


def forward_cases():
    cases = tutorial_cases()
    # Grid: every stride x padding x dilation with zeros padding.
    for s in (1, 2, 3):
        for p in (0, 1, 2, 3):
            for d in (1, 2, 3, 4):
                cases.append(case(f"grid-s{s}-p{p}-d{d}", 2, 3, 10, 4, 3,
                                  opts(stride=s, padding=p, dilation=d)))
    for s in (1, 2, 3):
        for d in (1, 2):
            cases.append(case(f"valid-s{s}-d{d}", 2, 3, 9, 2, 3,
                              opts(stride=s, padding="valid", dilation=d)))
    # 'same': odd and even kernels (torch puts the odd extra element on the right), dilation,
    # and kernels whose dilated extent exceeds the input.
    for k in (1, 2, 3, 4, 5, 6):
        for d in (1, 2, 3, 4):
            cases.append(case(f"same-k{k}-d{d}", 2, 3, 7, 2, k,
                              opts(padding="same", dilation=d)))
    cases.append(case("same-k4-L2-extent-beyond-input", 1, 2, 2, 3, 4, opts(padding="same")))
    cases.append(case("same-k2-L1", 1, 2, 1, 2, 2, opts(padding="same")))
    # Groups: 2, depthwise, depthwise with multiplier, groups with multiplier; with options.
    cases += [
        case("groups2", 2, 4, 9, 6, 3, opts(groups=2)),
        case("groups2-nobias", 2, 4, 9, 6, 3, opts(groups=2), bias=False),
        case("groups2-s2-p1-d2", 2, 4, 11, 4, 3, opts(stride=2, padding=1, dilation=2, groups=2)),
        case("groups3-cin6-cout3", 1, 6, 8, 3, 2, opts(groups=3)),
        case("depthwise-c4", 2, 4, 9, 4, 3, opts(groups=4)),
        case("depthwise-c4-nobias", 2, 4, 9, 4, 3, opts(groups=4), bias=False),
        case("depthwise-multiplier2-c4", 2, 4, 9, 8, 3, opts(groups=4)),
        case("depthwise-multiplier3-c2-s2-p2-d3", 1, 2, 12, 6, 3,
             opts(stride=2, padding=2, dilation=3, groups=2)),
        case("groups2-multiplier-cin4-cout6-same", 2, 4, 7, 6, 4, opts(padding="same", groups=2)),
        case("groups4-cin8-cout12-s3-p3", 1, 8, 13, 12, 3, opts(stride=3, padding=3, groups=4)),
        case("depthwise-c5-same-d2", 1, 5, 10, 5, 5, opts(padding="same", dilation=2, groups=5)),
    ]
    # Bias off across option kinds.
    cases += [
        case("nobias-basic", 1, 3, 8, 2, 3, opts(), bias=False),
        case("nobias-s2-p2-d2", 2, 3, 11, 5, 3, opts(stride=2, padding=2, dilation=2), bias=False),
        case("nobias-same-k4", 1, 3, 6, 2, 4, opts(padding="same"), bias=False),
    ]
    # Non-zero padding modes, each with padding > 0 and combined with stride/dilation/groups.
    for mode in ("reflect", "replicate", "circular"):
        for p in (1, 2, 3):
            cases.append(case(f"{mode}-p{p}", 2, 3, 8, 2, 3, opts(padding=p, mode=mode)))
        cases += [
            case(f"{mode}-p2-s2", 2, 3, 9, 4, 3, opts(stride=2, padding=2, mode=mode)),
            case(f"{mode}-p3-s3-nobias", 1, 3, 8, 2, 2, opts(stride=3, padding=3, mode=mode),
                 bias=False),
            case(f"{mode}-p2-d2", 2, 3, 8, 2, 3, opts(padding=2, dilation=2, mode=mode)),
            case(f"{mode}-p3-d3-s2", 1, 2, 8, 3, 3,
                 opts(stride=2, padding=3, dilation=3, mode=mode)),
            case(f"{mode}-p1-groups2", 2, 4, 8, 6, 3, opts(padding=1, groups=2, mode=mode)),
            case(f"{mode}-p2-depthwise", 1, 3, 8, 3, 3, opts(padding=2, groups=3, mode=mode)),
            case(f"{mode}-p2-depthwise-multiplier2-s2-d2", 2, 3, 9, 6, 3,
                 opts(stride=2, padding=2, dilation=2, groups=3, mode=mode)),
            case(f"{mode}-same-k3", 2, 3, 8, 2, 3, opts(padding="same", mode=mode)),
            case(f"{mode}-same-k4", 2, 3, 8, 2, 4, opts(padding="same", mode=mode)),
            case(f"{mode}-same-k4-d3", 1, 3, 8, 2, 4, opts(padding="same", dilation=3, mode=mode)),
            case(f"{mode}-same-k3-d2-groups3", 1, 3, 8, 3, 3,
                 opts(padding="same", dilation=2, groups=3, mode=mode)),
            case(f"{mode}-valid", 1, 3, 8, 2, 3, opts(padding="valid", mode=mode)),
            case(f"{mode}-p0", 1, 3, 8, 2, 3, opts(padding=0, mode=mode)),
        ]
    # Padding-mode limits: reflect allows padding up to L-1, circular up to L.
    cases += [
        case("reflect-p4-L5-max", 1, 2, 5, 2, 3, opts(padding=4, mode="reflect")),
        case("reflect-p1-L2", 1, 2, 2, 2, 3, opts(padding=1, mode="reflect")),
        case("circular-p5-L5-max", 1, 2, 5, 2, 3, opts(padding=5, mode="circular")),
        case("circular-p1-L1", 1, 2, 1, 2, 3, opts(padding=1, mode="circular")),
        case("replicate-p3-L1", 1, 2, 1, 2, 3, opts(padding=3, mode="replicate")),
        case("replicate-p3-L1-d2-s2", 1, 2, 1, 2, 3,
             opts(stride=2, padding=3, dilation=2, mode="replicate")),
        case("replicate-same-k6-L2", 1, 2, 2, 2, 6, opts(padding="same", mode="replicate")),
        case("circular-same-k5-d2-L4", 1, 2, 4, 2, 5,
             opts(padding="same", dilation=2, mode="circular")),
    ]
    # Batch sizes.
    for n in (1, 2, 3):
        cases.append(case(f"batch-n{n}", n, 3, 7, 2, 3, opts(padding=1)))
    # L = 1 and kernel == padded length.
    cases += [
        case("L1-k1", 2, 3, 1, 2, 1, opts()),
        case("L1-k1-s3", 1, 3, 1, 2, 1, opts(stride=3)),
        case("L1-k3-p1", 2, 3, 1, 2, 3, opts(padding=1)),
        case("L1-k3-p1-s3", 1, 3, 1, 2, 3, opts(stride=3, padding=1)),
        case("L1-k3-d2-p2", 1, 3, 1, 2, 3, opts(padding=2, dilation=2)),
        case("L1-k2-p3-s2-d3", 1, 3, 1, 2, 2, opts(stride=2, padding=3, dilation=3)),
        case("L1-same-k5", 1, 3, 1, 2, 5, opts(padding="same")),
        case("kernel-equals-length", 2, 3, 5, 2, 5, opts()),
        case("kernel-equals-padded-length", 2, 3, 3, 2, 5, opts(padding=1)),
        case("dilated-extent-equals-length", 1, 3, 7, 2, 3, opts(dilation=3)),
        case("dilated-extent-equals-padded-length", 1, 3, 5, 2, 3, opts(padding=1, dilation=3)),
        case("kernel-equals-padded-length-s2", 1, 3, 4, 2, 6, opts(stride=2, padding=1)),
    ]
    # Stride larger than kernel extent (inputs skipped), floor in the output length, 1 channel.
    cases += [
        case("stride-gt-kernel-k1-s3", 1, 2, 10, 2, 1, opts(stride=3)),
        case("stride-gt-kernel-k2-s3", 2, 2, 11, 3, 2, opts(stride=3)),
        case("floor-length-s3-L12", 1, 2, 12, 2, 3, opts(stride=3)),
        case("floor-length-s2-p1-d2-L10", 1, 2, 10, 2, 3, opts(stride=2, padding=1, dilation=2)),
        case("single-channel", 1, 1, 16, 1, 4, opts(padding=2)),
        case("single-channel-nobias", 1, 1, 16, 1, 4, opts(padding=2, dilation=2), bias=False),
        case("wide-channels", 1, 16, 12, 24, 5, opts(padding=2)),
        case("long-signal", 1, 4, 200, 4, 7, opts(padding=3, dilation=2)),
    ]
    return cases


def check_close(label, actual, expected):
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        raise AssertionError(f"{label}: shape {actual.shape} != reference {expected.shape}")
    if actual.size == 0:
        return 0.0
    err = np.abs(actual - expected)
    bound = CHECK_ATOL + CHECK_RTOL * np.abs(expected)
    if np.any(err > bound):
        i = int(np.argmax(err - bound))
        raise AssertionError(f"{label}: torch {actual.flat[i]} vs reference {expected.flat[i]} "
                             f"(max abs err {err.max():.3g})")
    return float(err.max())


def make_tensors(c):
    gen = torch.Generator().manual_seed(case_seed(c["name"]))
    x = c.get("input")
    if x is None:
        x = randn(gen, c["n"], c["cin"], c["l"])
    w = c.get("weight")
    if w is None:
        w = randn(gen, c["cout"], c["cin"] // c["options"]["groups"], c["k"])
    b = randn(gen, c["cout"]) if c["bias"] else None
    return gen, x, w, b


def build_forward(cases):
    out = []
    worst = 0.0
    for c in cases:
        _, x, w, b = make_tensors(c)
        with torch.no_grad():
            y, _ = torch_conv(x, w, b, c["options"])
        ref = conv1d_forward(x.numpy(), w.numpy(), None if b is None else b.numpy(), c["options"])
        worst = max(worst, check_close(c["name"], y.numpy(), ref))
        out.append({"name": c["name"], "input": encode_tensor(x), "weight": encode_tensor(w),
                    "bias": encode_tensor(b), "options": c["options"], "output": encode_tensor(y)})
    print(f"forward: {len(out)} cases, max |torch - float64 reference| = {worst:.3g}")
    return out


# ---------------------------------------------------------------------------------------------
# Backward cases
# ---------------------------------------------------------------------------------------------

def backward_cases():
    cases = []
    for s in (1, 2, 3):
        for p in (0, 2):
            for d in (1, 3):
                cases.append(case(f"bw-s{s}-p{p}-d{d}", 2, 3, 10, 4, 3,
                                  opts(stride=s, padding=p, dilation=d)))
    cases += [
        case("bw-p1-nobias", 2, 3, 8, 2, 3, opts(padding=1), bias=False),
        case("bw-valid-s2", 1, 3, 9, 2, 3, opts(stride=2, padding="valid")),
        case("bw-same-k3", 2, 3, 7, 2, 3, opts(padding="same")),
        case("bw-same-k4", 2, 3, 7, 2, 4, opts(padding="same")),
        case("bw-same-k4-d3", 1, 3, 7, 2, 4, opts(padding="same", dilation=3)),
        case("bw-same-k6-d2-L3", 1, 2, 3, 2, 6, opts(padding="same", dilation=2)),
        case("bw-groups2", 2, 4, 9, 6, 3, opts(groups=2)),
        case("bw-groups2-s2-p1-d2-nobias", 2, 4, 11, 4, 3,
             opts(stride=2, padding=1, dilation=2, groups=2), bias=False),
        case("bw-depthwise", 2, 4, 9, 4, 3, opts(padding=1, groups=4)),
        case("bw-depthwise-multiplier2-s2", 1, 3, 10, 6, 3, opts(stride=2, padding=2, groups=3)),
        case("bw-stride-gt-kernel", 1, 2, 11, 3, 2, opts(stride=3)),
        case("bw-L1-k3-p1", 2, 3, 1, 2, 3, opts(padding=1)),
        case("bw-kernel-equals-padded-length", 1, 3, 3, 2, 5, opts(padding=1)),
        case("bw-batch3", 3, 3, 6, 2, 2, opts(padding=1)),
    ]
    for mode in ("reflect", "replicate", "circular"):
        cases += [
            case(f"bw-{mode}-p2", 2, 3, 8, 2, 3, opts(padding=2, mode=mode)),
            case(f"bw-{mode}-p3-s2-d2", 1, 3, 9, 4, 3,
                 opts(stride=2, padding=3, dilation=2, mode=mode)),
            case(f"bw-{mode}-same-k4-d1", 2, 3, 8, 2, 4, opts(padding="same", mode=mode)),
            case(f"bw-{mode}-same-k3-d3-groups3", 1, 3, 8, 3, 3,
                 opts(padding="same", dilation=3, groups=3, mode=mode)),
            case(f"bw-{mode}-p1-groups2-nobias", 2, 4, 7, 6, 3,
                 opts(padding=1, groups=2, mode=mode), bias=False),
            case(f"bw-{mode}-p3-s3", 1, 2, 8, 2, 2, opts(stride=3, padding=3, mode=mode)),
        ]
    cases += [
        case("bw-reflect-p4-L5-max", 1, 2, 5, 2, 3, opts(padding=4, mode="reflect")),
        case("bw-circular-p5-L5-max", 1, 2, 5, 2, 3, opts(padding=5, mode="circular")),
        case("bw-replicate-p3-L1", 1, 2, 1, 2, 3, opts(padding=3, mode="replicate")),
    ]
    return cases


def build_backward(cases):
    out = []
    worst = 0.0
    for c in cases:
        gen, x, w, b = make_tensors(c)
        x_leaf = x.clone().requires_grad_(True)
        y, (w_leaf, b_leaf) = torch_conv(x_leaf, w, b, c["options"])
        grad_out = randn(gen, *y.shape)
        y.backward(grad_out)
        gx, gw = x_leaf.grad, w_leaf.grad
        gb = None if b_leaf is None else b_leaf.grad
        opt = c["options"]
        ref_y = conv1d_forward(x.numpy(), w.numpy(), None if b is None else b.numpy(), opt)
        rx, rw, rb = conv1d_backward(x.numpy(), w.numpy(), b is not None, opt, grad_out.numpy())
        worst = max(worst, check_close(c["name"] + " output", y.detach().numpy(), ref_y))
        worst = max(worst, check_close(c["name"] + " gradInput", gx.numpy(), rx))
        worst = max(worst, check_close(c["name"] + " gradWeight", gw.numpy(), rw))
        if b is not None:
            worst = max(worst, check_close(c["name"] + " gradBias", gb.numpy(), rb))
        out.append({"name": c["name"], "input": encode_tensor(x), "weight": encode_tensor(w),
                    "bias": encode_tensor(b), "options": opt, "output": encode_tensor(y),
                    "gradOutput": encode_tensor(grad_out), "gradInput": encode_tensor(gx),
                    "gradWeight": encode_tensor(gw), "gradBias": encode_tensor(gb)})
    print(f"backward: {len(out)} cases, max |torch - float64 reference| = {worst:.3g}")
    return out


# ---------------------------------------------------------------------------------------------
# Error cases
# ---------------------------------------------------------------------------------------------

def err(name, input_shape, weight_shape, bias_shape, options, call="F.conv1d", note=None):
    e = {"name": name, "inputShape": input_shape, "weightShape": weight_shape,
         "biasShape": bias_shape, "options": options, "call": call}
    if note is not None:
        e["note"] = note
    return e


def error_cases():
    """Cases torch 1.13 rejects. `call` says which torch entry point produced the message:
    F.conv1d (functional, zeros padding) or nn.Conv1d (module built from the weight's shape with
    the same options, then called; needed for padding modes and the module's own checks)."""
    x = [1, 4, 5]
    w = [2, 4, 3]
    return [
        err("kernel-larger-than-input", [1, 4, 2], w, [2], opts()),
        err("dilated-kernel-larger-than-input", x, w, [2], opts(dilation=3)),
        err("kernel-larger-than-padded-input", [1, 4, 2], [2, 4, 6], [2], opts(padding=1)),
        err("kernel-larger-than-padded-input-reflect", [1, 4, 4], [2, 4, 9], [2],
            opts(padding=2, mode="reflect"), call="nn.Conv1d"),
        err("empty-length-input", [1, 4, 0], [2, 4, 1], [2], opts()),
        err("empty-length-input-same", [1, 4, 0], [2, 4, 1], [2], opts(padding="same")),
        err("empty-length-input-padded-past-kernel", [1, 4, 0], w, [2], opts(padding=2),
            note="torch's slow path reshapes to 2-D and rejects zero-length input even though "
                 "the padded length (4) covers the kernel (3); the message is an internal one"),
        err("reflect-padding-equals-length", x, w, [2], opts(padding=5, mode="reflect"),
            call="nn.Conv1d"),
        err("reflect-padding-exceeds-length", x, w, [2], opts(padding=7, mode="reflect"),
            call="nn.Conv1d"),
        err("reflect-L1-padding1", [1, 4, 1], [2, 4, 1], [2], opts(padding=1, mode="reflect"),
            call="nn.Conv1d"),
        err("reflect-same-even-kernel-right-pad-equals-length", [1, 4, 3], [2, 4, 6], [2],
            opts(padding="same", mode="reflect"), call="nn.Conv1d"),
        err("circular-padding-exceeds-length", [1, 4, 2], w, [2],
            opts(padding=3, mode="circular"), call="nn.Conv1d"),
        err("replicate-empty-length-input", [1, 4, 0], w, [2], opts(padding=3, mode="replicate"),
            call="nn.Conv1d"),
        err("same-with-stride2", x, w, [2], opts(stride=2, padding="same")),
        err("same-with-stride2-module", x, w, [2], opts(stride=2, padding="same"),
            call="nn.Conv1d"),
        err("same-with-stride3-reflect", x, w, [2], opts(stride=3, padding="same", mode="reflect"),
            call="nn.Conv1d"),
        err("input-channels-not-divisible-by-groups", [1, 3, 5], [2, 1, 3], [2], opts(groups=2)),
        err("out-channels-not-divisible-by-groups", [1, 4, 5], [3, 2, 3], [3], opts(groups=2)),
        err("input-channel-mismatch", [1, 3, 5], w, [2], opts()),
        err("input-channel-mismatch-groups2", x, [2, 4, 3], [2], opts(groups=2)),
        err("input-channel-mismatch-groups3", [1, 6, 5], [6, 3, 3], [6], opts(groups=3)),
        err("groups-exceed-input-channels", x, [8, 1, 3], [8], opts(groups=8)),
        err("bias-wrong-length", x, w, [3], opts()),
        err("bias-wrong-length-groups2", x, [4, 2, 3], [2], opts(groups=2)),
        err("bias-2d", x, w, [1, 2], opts()),
        err("stride-zero", x, w, [2], opts(stride=0)),
        err("stride-negative", x, w, [2], opts(stride=-1)),
        err("stride-fractional", x, w, [2], opts(stride=1.5)),
        err("dilation-zero", x, w, [2], opts(dilation=0)),
        err("dilation-negative", x, w, [2], opts(dilation=-1)),
        err("dilation-fractional", x, w, [2], opts(dilation=1.5)),
        err("padding-negative", x, w, [2], opts(padding=-1)),
        err("padding-fractional", x, w, [2], opts(padding=1.5)),
        err("groups-zero", x, w, [2], opts(groups=0)),
        err("groups-negative", x, w, [2], opts(groups=-1)),
        err("groups-fractional", x, w, [2], opts(groups=1.5)),
        err("padding-unknown-string", x, w, [2], opts(padding="full")),
        err("padding-string-is-case-sensitive", x, w, [2], opts(padding="SAME")),
        err("padding-mode-unknown", x, w, [2], opts(padding=1, mode="mirror"), call="nn.Conv1d"),
        err("input-1d", [5], w, [2], opts()),
        err("input-4d", [1, 1, 4, 5], w, [2], opts()),
        err("weight-2d", x, [2, 4], [2], opts()),
        err("weight-4d", x, [2, 4, 3, 1], [2], opts()),
        err("weight-kernel-zero", x, [2, 4, 0], [2], opts()),
        err("weight-out-channels-zero", x, [0, 4, 3], None, opts()),
    ]


def run_error_case(e):
    """Calls torch as described by the case; returns (error type, message) or raises if accepted."""
    gen = torch.Generator().manual_seed(case_seed(e["name"]))
    x = randn(gen, *e["inputShape"])
    w = randn(gen, *e["weightShape"])
    b = None if e["biasShape"] is None else randn(gen, *e["biasShape"])
    o = e["options"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if e["call"] == "F.conv1d":
                F.conv1d(x, w, b, stride=o["stride"], padding=o["padding"],
                         dilation=o["dilation"], groups=o["groups"])
            else:
                cout, cin_g, kernel = e["weightShape"]
                m = make_module(cin_g * o["groups"], cout, kernel, o, b is not None)
                with torch.no_grad():
                    m.weight.copy_(w)
                    if b is not None:
                        m.bias.copy_(b)
                m(x)
    except (RuntimeError, ValueError, TypeError) as ex:
        return type(ex).__name__, str(ex)
    raise AssertionError(f"error case {e['name']!r}: torch accepted it")


def build_errors(cases):
    out = []
    for e in cases:
        kind, msg = run_error_case(e)
        e = dict(e)
        e["torchErrorType"] = kind
        e["torchError"] = msg
        out.append(e)
    print(f"errors: {len(out)} cases")
    return out


def check_round_trip(path):
    """Re-reads a written fixture and checks each tensor decodes to its shape."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    for c in doc["cases"]:
        for key, val in c.items():
            if isinstance(val, dict) and "data" in val:
                t = decode_tensor(val)
                assert list(t.shape) == val["shape"], (c["name"], key)


def main():
    ensure_fixed_hash_seed()
    header = {"generator": GENERATOR, **torch_versions()}
    fwd_path = repo_path("test", "fixtures", "conv1d", "forward.json")
    write_json(fwd_path, {**header, "cases": build_forward(forward_cases())})
    check_round_trip(fwd_path)
    bwd_path = repo_path("test", "fixtures", "conv1d", "backward.json")
    write_json(bwd_path, {**header, "cases": build_backward(backward_cases())})
    check_round_trip(bwd_path)
    write_json(repo_path("test", "fixtures", "conv1d", "errors.json"),
               {**header, "cases": build_errors(error_cases())})


if __name__ == "__main__":
    main()
