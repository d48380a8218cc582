"""Writes and reads the safetensors format by hand (Debian has no python3-safetensors).

Layout: 8-byte little-endian u64 N, then N bytes of UTF-8 JSON
  {"__metadata__": {str: str}, "<name>": {"dtype": "F32", "shape": [...],
                                          "data_offsets": [begin, end]}, ...}
padded with spaces so that 8 + N is a multiple of 8, then the tensors' raw little-endian bytes.
Offsets are relative to the first byte after the header; tensors are contiguous, in the order
given, with no gaps.
"""

import json
import struct

import numpy as np


def write_safetensors(path, tensors, metadata=None):
    """tensors: ordered mapping name -> torch.Tensor (stored as F32); metadata: str -> str."""
    header = {}
    if metadata:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError("safetensors __metadata__ must map strings to strings")
        header["__metadata__"] = dict(metadata)
    blobs = []
    offset = 0
    for name, t in tensors.items():
        arr = np.ascontiguousarray(t.detach().cpu().numpy(), dtype="<f4")
        raw = arr.tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def read_safetensors(path):
    """Returns (dict name -> np.ndarray float32, metadata dict); checks offsets are contiguous."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    data = blob[8 + n:]
    out = {}
    expected_begin = 0
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        begin, end = info["data_offsets"]
        if info["dtype"] != "F32" or begin != expected_begin:
            raise ValueError(f"{path}: tensor {name} has dtype {info['dtype']} / gap at {begin}")
        count = int(np.prod(info["shape"])) if info["shape"] else 1
        if end - begin != 4 * count:
            raise ValueError(f"{path}: tensor {name} byte range does not match its shape")
        out[name] = np.frombuffer(data[begin:end], dtype="<f4").reshape(info["shape"])
        expected_begin = end
    if expected_begin != len(data):
        raise ValueError(f"{path}: {len(data) - expected_begin} trailing bytes after tensors")
    return out, metadata
