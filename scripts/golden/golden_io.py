"""Shared helpers for the golden-vector generators: tensor encoding, JSON writing, versions.

Tensors are stored as {"shape": [...], "data": "<base64 of little-endian float32>"} so that the
TypeScript side can decode them with Buffer.from(data, 'base64') into a Float32Array.
"""

import base64
import json
import os
import subprocess
import sys
import zlib

import numpy as np
import torch

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def ensure_fixed_hash_seed():
    """Re-executes the script with PYTHONHASHSEED=0 so set-valued text in torch's messages
    (e.g. the padding_mode list) comes out in the same order on every run."""
    if os.environ.get("PYTHONHASHSEED") != "0":
        env = dict(os.environ, PYTHONHASHSEED="0")
        os.execve(sys.executable, [sys.executable] + sys.argv, env)


def repo_path(*parts):
    """Absolute path of a file inside the repository."""
    return os.path.join(REPO_ROOT, *parts)


def encode_tensor(t):
    """Encodes a tensor (or None) as the fixture JSON form."""
    if t is None:
        return None
    arr = t.detach().to(torch.float32).contiguous().cpu().numpy()
    raw = np.ascontiguousarray(arr, dtype="<f4").tobytes()
    return {"shape": list(arr.shape), "data": base64.b64encode(raw).decode("ascii")}


def decode_tensor(obj):
    """Inverse of encode_tensor, used by the generators to re-check what they wrote."""
    if obj is None:
        return None
    raw = base64.b64decode(obj["data"])
    arr = np.frombuffer(raw, dtype="<f4").reshape(obj["shape"])
    return torch.from_numpy(arr.copy())


def case_seed(name):
    """A seed that depends only on a case's name, so adding a case never changes the others."""
    return zlib.crc32(name.encode("utf-8")) & 0x7FFFFFFF


def randn(gen, *shape):
    """Seeded float32 standard normal tensor."""
    return torch.randn(*shape, generator=gen, dtype=torch.float32)


def torch_versions():
    """torch.__version__ plus the Debian package version when it can be read."""
    info = {"torch": torch.__version__}
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", "python3-torch"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        if out:
            info["torchPackage"] = "python3-torch " + out
    except (OSError, subprocess.CalledProcessError):
        pass
    return info


def write_json(path, obj):
    """Writes JSON deterministically (sorted-free, stable order as built, trailing newline)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")
    print(f"wrote {os.path.relpath(path, REPO_ROOT)} ({os.path.getsize(path)} bytes)")
