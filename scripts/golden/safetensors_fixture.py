#!/usr/bin/env python3
"""Writes the safetensors fixture that test/model/safetensors.test.ts parses.

The `safetensors` Python package is not installable on this machine (Debian ships no
python3-safetensors and PyPI is out of reach), so this script writes the file format itself with
`struct`, following the format section of the huggingface/safetensors README:

  8 bytes   N, little-endian u64: size of the header
  N bytes   UTF-8 JSON: {"__metadata__": {str: str}, "<name>": {"dtype", "shape", "data_offsets"}}
            data_offsets = [begin, end) relative to the byte buffer after the header;
            padded with spaces so that the buffer starts on an 8-byte boundary
  rest      the byte buffer, tensors packed back to back, little-endian, row-major (C order)

Tensor bytes come from torch (`.numpy().tobytes()`; bfloat16 through an int16 view, since numpy
has no bfloat16), and the expected float32 values come from torch's own conversion
(`tensor.to(torch.float32)`), so the TypeScript decoder is checked against torch, not against
itself. The layout mimics the reference writer: tensors ordered by descending dtype alignment
then name, header keys in data order after `__metadata__`, compact JSON.

Usage (from the repository root): /usr/bin/python3 scripts/golden/safetensors_fixture.py
Outputs: test/fixtures/safetensors/mixed-dtypes.safetensors and mixed-dtypes.expected.json.
"""

import json
import pathlib
import struct
import sys

import torch

OUT_DIR = pathlib.Path(__file__).resolve().parents[2] / "test" / "fixtures" / "safetensors"
STEM = "mixed-dtypes"

# Same names and order of alignment as the reference implementation's Dtype enum.
DTYPE_NAMES = {
    torch.bool: "BOOL",
    torch.uint8: "U8",
    torch.int8: "I8",
    torch.int16: "I16",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int32: "I32",
    torch.float32: "F32",
    torch.float64: "F64",
    torch.int64: "I64",
}
ALIGNMENT_ORDER = ["BOOL", "U8", "I8", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64"]


def tensor_bytes(t: torch.Tensor) -> bytes:
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    return t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()


def fixture_tensors() -> dict:
    gen = torch.Generator().manual_seed(20240607)
    return {
        # A Conv1d(2, 3, kernel_size=3) state_dict, as PyTorch lays it out: weight [Cout, Cin, K].
        "tcn.0.conv.weight": torch.randn(3, 2, 3, generator=gen, dtype=torch.float32),
        "tcn.0.conv.bias": torch.randn(3, generator=gen, dtype=torch.float32),
        # Half precision: 1, -2, max finite, min normal, min subnormal, +0, -0, 1/3 (rounded).
        "head.weight": torch.tensor(
            [[1.0, -2.0, 65504.0, 2.0**-14], [2.0**-24, 0.0, -0.0, 1.0 / 3.0]], dtype=torch.float16
        ),
        # bfloat16: 1, -2.5, max finite, min subnormal (2^-133), 0.1 (rounded).
        "head.bias": torch.tensor([1.0, -2.5, 3.3895313892515355e38, 2.0**-133, 0.1], dtype=torch.bfloat16),
        # float64 narrowed to float32: 0.1 rounds, -1e-50 underflows to -0, 1 + 2^-30 rounds to 1,
        # 2^-140 becomes a float32 subnormal.
        "scale": torch.tensor([[0.1, -1e-50], [1.0 + 2.0**-30, 2.0**-140]], dtype=torch.float64),
        # Integer buffers a state_dict may hold (BatchNorm's counter is an int64 scalar).
        "norm.num_batches_tracked": torch.tensor(7, dtype=torch.int64),
        "steps": torch.tensor([0, -5, 16777216], dtype=torch.int32),
        # Rank 0 and zero-size tensors are valid in the format.
        "temperature": torch.tensor(0.5, dtype=torch.float32),
        "empty": torch.zeros(0, 3, dtype=torch.float32),
    }


def build(tensors: dict, metadata: dict) -> bytes:
    order = sorted(
        tensors.items(), key=lambda kv: (-ALIGNMENT_ORDER.index(DTYPE_NAMES[kv[1].dtype]), kv[0])
    )
    header = {"__metadata__": metadata}
    chunks = []
    offset = 0
    for name, t in order:
        raw = tensor_bytes(t)
        header[name] = {
            "dtype": DTYPE_NAMES[t.dtype],
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def main() -> int:
    tensors = fixture_tensors()
    metadata = {"format": "pt", "producer": "scripts/golden/safetensors_fixture.py", "note": "µ-Ω ✓"}
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / f"{STEM}.safetensors").write_bytes(build(tensors, metadata))
    expected = {
        "producer": f"torch {torch.__version__} via scripts/golden/safetensors_fixture.py",
        "metadata": metadata,
        "tensors": {
            name: {
                "dtype": DTYPE_NAMES[t.dtype],
                "shape": list(t.shape),
                # torch's own conversion to float32, flattened row-major.
                "values": t.to(torch.float32).reshape(-1).tolist(),
            }
            for name, t in sorted(tensors.items())
        },
    }
    (OUT_DIR / f"{STEM}.expected.json").write_text(json.dumps(expected, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
