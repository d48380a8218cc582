"""Exports the reference TCNs (tcn_reference.py) for the benchmark and the TCN golden vectors.

For tcn-s and tcn-wide, into bench/models/:
  <name>.safetensors  state_dict (F32), __metadata__ holds the architecture JSON
  <name>.json         architecture: channels, hidden, kernel, dilations, activation, receptive field
  <name>.onnx         torch.onnx.export, opset 17, input "x" [1, C, T] with T dynamic, output "y";
                      each causal F.pad folded into its Conv's pads=[p, 0] (ops: Conv, Relu, Add)
and checks, with onnxruntime-node, that the ONNX output equals PyTorch's on a window of exactly
the receptive field and on a longer one.

Into test/fixtures/tcn/:
  tcn-s.golden.json          seeded input [1, 8, 300] and PyTorch's output [1, 8, 300]
  tcn-tiny-gelu.golden.json  the same for a 2-block GELU TCN (3 -> 6 -> 3, kernel 2, dil. [1, 3])
  tcn-tiny-gelu.safetensors  its weights
Each golden also carries the state_dict inline, so a TypeScript TCN can be checked without the
safetensors loader and the loader can be checked against the inline tensors.

Run from anywhere: /usr/bin/python3 scripts/golden/export_bench_models.py
Needs node and the repo's node_modules (onnxruntime-node) for the ONNX check.
"""

import json
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import onnx
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_io import (  # noqa: E402
    REPO_ROOT, case_seed, encode_tensor, ensure_fixed_hash_seed, randn, repo_path,
    torch_versions, write_json,
)
from safetensors_io import read_safetensors, write_safetensors  # noqa: E402
from tcn_reference import SPECS, build  # noqa: E402

GENERATOR = "scripts/golden/export_bench_models.py"
FORMAT = "convwatch-tcn"
FORMAT_VERSION = 1
OPSET = 17
GOLDEN_LENGTH = {"tcn-s": 300, "tcn-tiny-gelu": 40}
ATOL = 1e-5
RTOL = 1e-5

torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

# Runs one ONNX model in onnxruntime-node. argv: model path, input .f32 path, C, T, output path.
NODE_RUN_ONNX = r"""
const [modelPath, inputPath, channels, length, outPath] = process.argv.slice(1);
const fs = await import('node:fs');
const ort = await import('onnxruntime-node');
const buf = fs.readFileSync(inputPath);
const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
const session = await ort.InferenceSession.create(modelPath);
const x = new ort.Tensor('float32', data, [1, Number(channels), Number(length)]);
const result = await session.run({ x });
const y = result.y;
fs.writeFileSync(outPath, Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength));
console.log(JSON.stringify({ inputs: session.inputNames, outputs: session.outputNames,
  dims: y.dims }));
"""


def architecture(spec):
    arch = {"format": FORMAT, "formatVersion": FORMAT_VERSION, **spec.to_json()}
    return arch


def state_dict_of(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def write_weights(path, spec, model):
    sd = state_dict_of(model)
    meta = {"format": "pt", "convwatch.architecture": json.dumps(architecture(spec))}
    write_safetensors(path, sd, meta)
    back, back_meta = read_safetensors(path)
    assert list(back.keys()) == list(sd.keys()), "safetensors lost tensor order"
    for k, v in sd.items():
        assert np.array_equal(back[k], v.numpy()), f"safetensors round trip changed {k}"
    assert json.loads(back_meta["convwatch.architecture"]) == architecture(spec)
    print(f"wrote {os.path.relpath(path, REPO_ROOT)} ({os.path.getsize(path)} bytes, "
          f"{sum(v.numel() for v in sd.values())} parameters)")


def fold_causal_pads(m, spec):
    """torch exports each F.pad(x, (p, 0)) as a Pad fed by a dozen shape ops that its constant
    folding leaves in place. Conv's own `pads` attribute takes asymmetric [begin, end] padding,
    so each Pad -> Conv pair becomes one Conv with pads=[p, 0], and the dead ops are dropped.
    The ONNX check against torch afterwards proves the rewrite changed nothing."""
    g = m.graph
    consumers = {}
    for node in g.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    removed = set()
    for node in g.node:
        if node.op_type != "Pad":
            continue
        users = consumers.get(node.output[0], [])
        if len(users) != 1 or users[0].op_type != "Conv":
            raise AssertionError(f"Pad {node.name} does not feed exactly one Conv")
        conv = users[0]
        block = int(conv.input[1].split(".")[1])  # blocks.<i>.convN.weight
        p = (spec.kernel_size - 1) * spec.dilations[block]
        for attr in conv.attribute:
            if attr.name == "pads":
                del attr.ints[:]
                attr.ints.extend([p, 0])
        conv.input[0] = node.input[0]
        removed.add(id(node))
    kept = [n for n in g.node if id(n) not in removed]
    # Drop nodes whose outputs nothing reads any more (the pad-size arithmetic).
    while True:
        used = {name for n in kept for name in n.input} | {o.name for o in g.output}
        alive = [n for n in kept if any(o in used for o in n.output)]
        if len(alive) == len(kept):
            break
        kept = alive
    del g.node[:]
    g.node.extend(kept)
    if len(removed) != 2 * len(spec.dilations):
        raise AssertionError(f"expected {2 * len(spec.dilations)} Pad nodes, saw {len(removed)}")


def export_onnx(path, spec, model):
    x = torch.zeros(1, spec.in_channels, spec.receptive_field)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, x, path, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {2: "T"}, "y": {2: "T"}}, opset_version=OPSET,
                          do_constant_folding=True)
    m = onnx.load(path)
    fold_causal_pads(m, spec)
    entry = m.metadata_props.add()
    entry.key = "convwatch.architecture"
    entry.value = json.dumps(architecture(spec))
    onnx.checker.check_model(m)
    onnx.save(m, path)
    print(f"wrote {os.path.relpath(path, REPO_ROOT)} ({os.path.getsize(path)} bytes)")


def run_onnx_in_node(path, x):
    with tempfile.TemporaryDirectory() as tmp:
        inp = os.path.join(tmp, "x.f32")
        outp = os.path.join(tmp, "y.f32")
        np.ascontiguousarray(x.numpy(), dtype="<f4").tofile(inp)
        proc = subprocess.run(
            ["node", "--input-type=module", "-e", NODE_RUN_ONNX, path, inp,
             str(x.shape[1]), str(x.shape[2]), outp],
            cwd=REPO_ROOT, capture_output=True, text=True,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"onnxruntime-node failed on {path}:\n{proc.stderr}")
        info = json.loads(proc.stdout.strip().splitlines()[-1])
        y = np.fromfile(outp, dtype="<f4").reshape(info["dims"])
    if info["inputs"] != ["x"] or info["outputs"] != ["y"]:
        raise AssertionError(f"{path}: unexpected ONNX names {info}")
    return y


def verify_onnx(path, spec, model):
    for length in (spec.receptive_field, 300):
        gen = torch.Generator().manual_seed(case_seed(f"{spec.name}-onnx-check-{length}"))
        x = randn(gen, 1, spec.in_channels, length)
        with torch.no_grad():
            expected = model(x).numpy()
        actual = run_onnx_in_node(path, x)
        if actual.shape != expected.shape:
            raise AssertionError(f"{path}: ONNX shape {actual.shape} != torch {expected.shape}")
        err = np.abs(actual - expected)
        if np.any(err > ATOL + RTOL * np.abs(expected)):
            raise AssertionError(f"{path}: ONNX differs from torch by up to {err.max():.3g}")
        print(f"  onnxruntime-node == torch on [1, {spec.in_channels}, {length}] "
              f"(max abs err {err.max():.3g})")


def check_causal(spec, model):
    """A change at time t must leave outputs before t unchanged and reach exactly
    receptive_field - 1 steps forward: the exported model really is the causal TCN."""
    length = spec.receptive_field + 20
    gen = torch.Generator().manual_seed(case_seed(f"{spec.name}-causality"))
    x = randn(gen, 1, spec.in_channels, length)
    t = 10
    x2 = x.clone()
    x2[:, :, t] += 1.0
    with torch.no_grad():
        diff = (model(x2) - model(x)).abs().amax(dim=1)[0]
    changed = torch.nonzero(diff > 0).flatten().tolist()
    assert changed and min(changed) == t, f"{spec.name}: not causal, first change {changed[:1]}"
    assert max(changed) <= t + spec.receptive_field - 1, f"{spec.name}: sees too far"


def write_golden(name, spec, model, weights_rel):
    length = GOLDEN_LENGTH[name]
    gen = torch.Generator().manual_seed(case_seed(f"{name}-golden"))
    x = randn(gen, 1, spec.in_channels, length)
    with torch.no_grad():
        y = model(x)
    doc = {
        "generator": GENERATOR,
        **torch_versions(),
        "architecture": architecture(spec),
        "safetensors": weights_rel,
        "stateDict": {k: encode_tensor(v) for k, v in state_dict_of(model).items()},
        "input": encode_tensor(x),
        "output": encode_tensor(y),
    }
    write_json(repo_path("test", "fixtures", "tcn", f"{name}.golden.json"), doc)


def main():
    ensure_fixed_hash_seed()
    versions = torch_versions()
    for name in ("tcn-s", "tcn-wide"):
        spec = SPECS[name]
        model = build(spec)
        check_causal(spec, model)
        base = repo_path("bench", "models", name)
        write_weights(base + ".safetensors", spec, model)
        write_json(base + ".json", {**architecture(spec), "weights": f"{name}.safetensors",
                                    "onnx": f"{name}.onnx", "generator": GENERATOR,
                                    **versions})
        export_onnx(base + ".onnx", spec, model)
        verify_onnx(base + ".onnx", spec, model)
        if name in GOLDEN_LENGTH:
            write_golden(name, spec, model, f"bench/models/{name}.safetensors")

    name = "tcn-tiny-gelu"
    spec = SPECS[name]
    model = build(spec)
    check_causal(spec, model)
    write_weights(repo_path("test", "fixtures", "tcn", f"{name}.safetensors"), spec, model)
    write_golden(name, spec, model, f"test/fixtures/tcn/{name}.safetensors")


if __name__ == "__main__":
    main()
