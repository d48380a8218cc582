"""Trains a small TCN forecaster in PyTorch and exports it as a convwatch model directory.

This is the worked example of docs/pytorch.md: every ```python block of that page is copied
verbatim from a `# doc:begin <name>` ... `# doc:end` region of this file, and
test/model/pytorch-interop.test.ts checks that they still agree, so the page cannot drift from
code that runs.

Writes (paths relative to the repository root):
  test/fixtures/pytorch-model/model/model.json           manifest, every field
  test/fixtures/pytorch-model/model/weights.safetensors  state_dict, F32
  test/fixtures/pytorch-model/test-series.csv            240 raw readings with one spike
  test/fixtures/pytorch-model/expected.json              the test series, its normalised form,
      PyTorch's forecast at every step, and the scores / exceedances computed in numpy from
      those forecasts with the formulas of docs/pytorch.md

The model: 3 channels, hidden 6, kernel 2, dilations [1, 2] (receptive field 7), exact GELU,
trained for 30 short epochs (150 Adam steps) on a seeded synthetic series of sines plus noise.
Deterministic: two runs give byte-identical files (single thread, deterministic algorithms,
fixed createdAt and durationMs), unless the `safetensors` package is installed, whose writer
lays the weights file out differently (same tensors, other bytes, so another SHA-256).

Run from anywhere: /usr/bin/python3 scripts/golden/export_pytorch_model.py
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# doc:begin imports
import hashlib
import json
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
# doc:end

from golden_io import REPO_ROOT, repo_path, torch_versions  # noqa: E402
from safetensors_io import read_safetensors  # noqa: E402
from tcn_reference import TCN as ReferenceTCN, TcnSpec  # noqa: E402

GENERATOR = "scripts/golden/export_pytorch_model.py"
FIXTURE_DIR = repo_path("test", "fixtures", "pytorch-model")
CHANNELS = ["temperature", "pressure", "flow"]
SEED = 7
TRAIN_SERIES_ROWS = 1200
TEST_SERIES_ROWS = 240
SPIKE_ROW = 170
SPIKE_CHANNEL = 1
SPIKE_SIZE = 2.0  # raw units (kPa) added to the pressure reading at SPIKE_ROW
CREATED_AT = "2026-01-01T00:00:00Z"  # fixed so that re-running gives identical bytes
T0_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z; readings are one second apart

torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)


# doc:begin module
class CausalConv1d(nn.Conv1d):
    """nn.Conv1d padded with (kernel_size - 1) * dilation zeros on the left only, so output t
    sees inputs <= t. Subclassing keeps the parameter names `weight` and `bias`."""

    def __init__(self, in_channels, out_channels, kernel_size, dilation=1):
        # bias=True (the default): convwatch expects a bias on every convolution.
        super().__init__(in_channels, out_channels, kernel_size, dilation=dilation)
        self.left_padding = (kernel_size - 1) * dilation

    def forward(self, x):
        return super().forward(F.pad(x, (self.left_padding, 0)))


def make_activation(spec):
    """The torch module for a model.json activation spec, e.g. {"name": "gelu"}."""
    name = spec["name"]
    if name == "relu":
        return nn.ReLU()
    if name == "leaky-relu":
        return nn.LeakyReLU(spec.get("negativeSlope", 0.01))
    if name == "gelu":
        return nn.GELU()  # exact: x * Phi(x) with erf (approximate="none")
    if name == "gelu-tanh":
        return nn.GELU(approximate="tanh")
    if name == "tanh":
        return nn.Tanh()
    if name == "sigmoid":
        return nn.Sigmoid()
    if name == "elu":
        return nn.ELU(spec.get("alpha", 1.0))
    if name == "identity":
        return nn.Identity()
    raise ValueError(f"activation {name!r} has no convwatch equivalent")


class TemporalBlock(nn.Module):
    """Two causal dilated convolutions, each followed by the activation (and dropout while
    training), plus a residual path; the activation is applied again after the sum."""

    def __init__(self, in_channels, out_channels, kernel_size, dilation, activation, dropout=0.0):
        super().__init__()
        self.conv1 = CausalConv1d(in_channels, out_channels, kernel_size, dilation)
        self.conv2 = CausalConv1d(out_channels, out_channels, kernel_size, dilation)
        # A 1x1 convolution matches the widths on the residual path, only where they differ.
        self.downsample = nn.Conv1d(in_channels, out_channels, 1) if in_channels != out_channels else None
        self.act = make_activation(activation)
        self.drop = nn.Dropout(dropout)  # no parameters: the state_dict is the same with or without

    def forward(self, x):
        h = self.drop(self.act(self.conv1(x)))
        h = self.drop(self.act(self.conv2(h)))
        res = x if self.downsample is None else self.downsample(x)
        return self.act(h + res)


class TcnForecaster(nn.Module):
    """[N, C, L] normalised readings -> [N, C, L]: output t forecasts reading t + 1.
    state_dict: blocks.<i>.conv1.{weight,bias}, blocks.<i>.conv2.{weight,bias},
    blocks.<i>.downsample.{weight,bias} (where widths differ), head.{weight,bias}."""

    def __init__(self, channels, hidden, kernel_size, dilations, activation=None, dropout=0.0):
        super().__init__()
        activation = dict(activation or {"name": "relu"})
        widths = [hidden] * len(dilations) if isinstance(hidden, int) else list(hidden)
        blocks, cin = [], channels
        for width, dilation in zip(widths, dilations, strict=True):
            blocks.append(TemporalBlock(cin, width, kernel_size, dilation, activation, dropout))
            cin = width
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Conv1d(cin, channels, 1)
        self.receptive_field = 1 + sum(2 * (kernel_size - 1) * d for d in dilations)
        self.architecture = {  # model.json "architecture"
            "kind": "tcn-forecaster",
            "inChannels": channels,
            "outChannels": channels,
            "hiddenChannels": hidden if isinstance(hidden, int) else list(hidden),
            "kernelSize": kernel_size,
            "dilations": list(dilations),
            "activation": activation,
        }

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(x)
# doc:end


# doc:begin normalization
def fit_normalization(train_values):
    """Per-channel mean and population std (ddof=0; torch.std defaults to ddof=1) of the raw
    training rows [T, C]; a constant channel gets std 1, as convwatch's fitNormalization."""
    values = np.asarray(train_values, dtype=np.float64)
    mean = values.mean(axis=0)
    std = values.std(axis=0)
    std = np.where(std < 1e-6 * np.maximum(1.0, np.abs(mean)), 1.0, std)
    return mean.astype(np.float32), std.astype(np.float32)


def normalize(values, mean, std):
    """(x - mean) / std per channel, computed as convwatch does: float32 readings and
    statistics, float64 arithmetic, float32 result."""
    x = np.asarray(values, dtype=np.float32).astype(np.float64)
    return ((x - mean.astype(np.float64)) / std.astype(np.float64)).astype(np.float32)
# doc:end


# doc:begin training
def training_windows(series, train_rows, window_length, receptive_field):
    """[W, C, L] windows of the normalised training rows whose scored positions
    (receptive_field - 1 .. L - 2 of each window) tile the training rows."""
    step = window_length - receptive_field
    starts = list(range(0, train_rows - window_length + 1, step))
    if starts[-1] != train_rows - window_length:
        starts.append(train_rows - window_length)  # the last window overlaps the one before
    return np.stack([series[s:s + window_length].T for s in starts])


def masked_mse(model, windows):
    """Next-reading MSE over positions R - 1 .. L - 2 of each window [N, C, L]. Earlier outputs
    depend on the zero padding at the window start, which a stream never sees; the last
    position has no target inside the window."""
    r = model.receptive_field
    forecast = model(windows)[:, :, r - 1:-1]
    target = windows[:, :, r:]
    return torch.mean((forecast - target) ** 2)


def train(model, series, train_rows, *, epochs, window_length, batch_size, learning_rate, seed):
    """Adam on shuffled batches of training windows; returns the last epoch's mean loss."""
    windows = torch.from_numpy(training_windows(series, train_rows, window_length, model.receptive_field))
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(windows), generator=generator)
        losses = []
        for i in range(0, len(order), batch_size):
            loss = masked_mse(model, windows[order[i:i + batch_size]])
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            losses.append(loss.item())
    model.eval()
    return float(np.mean(losses))
# doc:end


# doc:begin calibration
MAD_TO_SIGMA = 1.482602218505602  # 1 / Phi^-1(3/4)


def forecasts_of(model, series):
    """[T, C] normalised float32 -> [T, C] forecasts (row t forecasts row t + 1). One causal
    pass over the whole series gives what convwatch's stream computes reading by reading."""
    with torch.no_grad():
        x = torch.from_numpy(np.ascontiguousarray(series.T))[None]
        return model(x)[0].T.numpy().copy()


def residuals_of(series, forecasts, receptive_field):
    """float32 residuals of rows R .. T-1: reading t minus the forecast made at t - 1. Earlier
    readings get no score in convwatch (the stream is still warming up)."""
    r = receptive_field
    return series[r:] - forecasts[r - 1:-1]


def fit_residual_stats(residuals, min_scale_std_ratio=0.5, min_scale=1e-3):
    """convwatch's fitResidualStats: center = median, scale = max(1.4826 * MAD,
    0.5 * population std, 1e-3) per channel, computed in float64 and stored as float32."""
    r = np.asarray(residuals, dtype=np.float64)
    center = np.median(r, axis=0)
    mad = MAD_TO_SIGMA * np.median(np.abs(r - center), axis=0)
    scale = np.maximum(np.maximum(mad, min_scale_std_ratio * r.std(axis=0)), min_scale)
    return center.astype(np.float32), scale.astype(np.float32)


def scores_of(residuals, center, scale):
    """score = mean over channels of z^2, z = (r - center) / scale, in float64."""
    z = (np.asarray(residuals, np.float64) - center.astype(np.float64)) / scale.astype(np.float64)
    return np.mean(z * z, axis=1)


def quantile_threshold(scores, q, margin=1.0):
    """model.json "threshold", method "quantile": margin * the q-quantile of held-out normal
    scores, numpy's default (linear) interpolation, as convwatch's calibrateThreshold."""
    n = len(scores)
    if n < max(2, math.ceil(1 / (1 - q) - 1e-9)):
        raise ValueError(f"q = {q} needs at least {math.ceil(1 / (1 - q))} scores, got {n}")
    quantile = float(np.quantile(scores, q))
    return {"method": "quantile", "value": margin * quantile,
            "params": {"q": q, "margin": margin, "quantile": quantile, "n": n}}


def calibrate(model, series, train_rows, q, margin):
    """Residual statistics and threshold from the held-out rows (train_rows .. T-1) only."""
    residuals = residuals_of(series, forecasts_of(model, series), model.receptive_field)
    held_out = residuals[train_rows - model.receptive_field:]
    center, scale = fit_residual_stats(held_out)
    threshold = quantile_threshold(scores_of(held_out, center, scale), q, margin)
    return center, scale, threshold, len(held_out)
# doc:end


# doc:begin export
def save_weights(model, path):
    """weights.safetensors: the state_dict as it is, F32, names like blocks.0.conv1.weight."""
    state = {k: v.detach().to(torch.float32).contiguous() for k, v in model.state_dict().items()}
    try:
        from safetensors.torch import save_file
    except ImportError:
        # No safetensors package (Debian has none): use the small writer in
        # scripts/golden/safetensors_io.py (copy it next to this script).
        from safetensors_io import write_safetensors
        write_safetensors(path, state, {"format": "pt"})
    else:
        save_file(state, path, metadata={"format": "pt"})


def floats(values):
    """float32 values as JSON numbers (exact: every float32 is a double)."""
    return [float(v) for v in np.asarray(values, dtype=np.float32)]


def write_model_dir(out_dir, model, *, name, created_at, channels, mean, std, center, scale,
                    threshold, training, events=None):
    """Writes weights.safetensors, then model.json carrying the weights' SHA-256."""
    os.makedirs(out_dir, exist_ok=True)
    weights_path = os.path.join(out_dir, "weights.safetensors")
    save_weights(model, weights_path)
    with open(weights_path, "rb") as f:
        sha256 = hashlib.sha256(f.read()).hexdigest()
    manifest = {
        "format": "convwatch-model",
        "formatVersion": 1,
        "name": name,
        "createdAt": created_at,
        "channels": list(channels),
        "normalization": {"mean": floats(mean), "std": floats(std)},
        "architecture": model.architecture,
        "receptiveField": model.receptive_field,
        "score": {"method": "mean-z2", "center": floats(center), "scale": floats(scale)},
        "threshold": threshold,
        "events": events or {"openAfter": 1, "closeAfter": 3},
        "training": training,
        "weights": {"file": "weights.safetensors", "sha256": sha256},
    }
    with open(os.path.join(out_dir, "model.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, allow_nan=False)  # NaN is not JSON: fail here, not at load
        f.write("\n")
    return manifest
# doc:end


def synthetic_series(rows, seed):
    """Three correlated sensor channels (a daily-like cycle, a faster one, noise), rounded to
    the 3 decimals a sensor would report. Raw units: °C, kPa, l/min."""
    rng = np.random.Generator(np.random.PCG64(seed))
    n = np.arange(rows, dtype=np.float64)
    slow = np.sin(2 * np.pi * n / 24)
    temperature = 20 + 5 * slow + rng.normal(0, 0.2, rows)
    pressure = 101.3 + 2 * np.cos(2 * np.pi * n / 24 + 0.5) + 0.8 * np.sin(2 * np.pi * n / 7) + rng.normal(0, 0.1, rows)
    flow = 3 + 1.5 * slow + 1.5 * np.sin(2 * np.pi * n / 11) + rng.normal(0, 0.15, rows)
    return np.round(np.stack([temperature, pressure, flow], axis=1), 3)


def check_against_reference(model):
    """The documented module is scripts/golden/tcn_reference.py's TCN: same state_dict names and
    shapes (strict load) and the same outputs."""
    spec = TcnSpec("pytorch-interop", in_channels=3, hidden=6, out_channels=3, kernel_size=2,
                   dilations=[1, 2], activation="gelu")
    ref = ReferenceTCN(spec)
    ref.load_state_dict(model.state_dict(), strict=True)
    ref.eval()
    x = torch.randn(1, 3, 50, generator=torch.Generator().manual_seed(SEED))
    with torch.no_grad():
        assert torch.equal(ref(x), model(x)), "documented module differs from tcn_reference.TCN"


def check_receptive_field(model):
    """A change at t moves outputs t .. t + R - 1 only: causal, with the stated receptive field."""
    x = torch.randn(1, 3, 40, generator=torch.Generator().manual_seed(SEED + 1))
    x2 = x.clone()
    x2[:, :, 10] += 1.0
    with torch.no_grad():
        changed = torch.nonzero((model(x2) - model(x)).abs().amax(dim=1)[0] > 0).flatten().tolist()
    assert changed[0] == 10 and changed[-1] == 10 + model.receptive_field - 1, changed


def format_rows(rows):
    return "[\n" + ",\n".join("  " + json.dumps(r, allow_nan=False) for r in rows) + "\n ]"


def write_expected(path, doc):
    """Top-level keys one per line, matrices one row per line (readable diffs)."""
    parts = []
    for key, value in doc.items():
        if isinstance(value, list) and value and isinstance(value[0], list):
            text = format_rows(value)
        else:
            text = json.dumps(value, allow_nan=False)
        parts.append(f" {json.dumps(key)}: {text}")
    with open(path, "w", encoding="utf-8") as f:
        f.write("{\n" + ",\n".join(parts) + "\n}\n")
    print(f"wrote {os.path.relpath(path, REPO_ROOT)} ({os.path.getsize(path)} bytes)")


def write_csv(path, values):
    with open(path, "w", encoding="utf-8") as f:
        f.write("time," + ",".join(CHANNELS) + "\n")
        for t, row in enumerate(values):
            seconds = t  # T0 is midnight; 240 rows stay within the first 4 minutes
            stamp = f"2026-01-01T00:{seconds // 60:02d}:{seconds % 60:02d}Z"
            f.write(stamp + "," + ",".join(f"{v:.3f}" for v in row) + "\n")
    print(f"wrote {os.path.relpath(path, REPO_ROOT)} ({os.path.getsize(path)} bytes)")


def main():
    # doc:begin pipeline
    values = synthetic_series(TRAIN_SERIES_ROWS + TEST_SERIES_ROWS, SEED)
    normal = values[:TRAIN_SERIES_ROWS]  # the recording to learn from; the rest is for testing
    train_rows = 960  # the last 240 rows are held out for validation and calibration

    mean, std = fit_normalization(normal[:train_rows])
    series = normalize(normal, mean, std)

    torch.manual_seed(SEED)
    model = TcnForecaster(len(CHANNELS), hidden=6, kernel_size=2, dilations=[1, 2],
                          activation={"name": "gelu"})
    train_loss = train(model, series, train_rows, epochs=30, window_length=64, batch_size=4,
                       learning_rate=1e-2, seed=SEED)
    forecasts = forecasts_of(model, series)
    validation_loss = float(np.mean((forecasts[train_rows - 1:-1].astype(np.float64) - series[train_rows:]) ** 2))

    # convwatch's own `train` uses q = 1 - 1/n and margin 1.2 below 1000 held-out readings
    center, scale, threshold, n = calibrate(model, series, train_rows, q=1 - 1 / 240, margin=1.2)
    training = {
        "source": "synthetic sines (scripts/golden/export_pytorch_model.py)",
        "rows": len(normal), "trainRows": train_rows, "validationRows": len(normal) - train_rows,
        "calibrationReadings": n, "epochs": 30, "bestEpoch": 30,
        "trainLoss": train_loss, "validationLoss": validation_loss, "seed": SEED,
        "durationMs": 0,  # not measured: keeps the file identical from run to run
        "hyperParameters": {"framework": f"pytorch {torch.__version__}", "optimizer": "adam",
                            "learningRate": 1e-2, "windowLength": 64, "batchSize": 4, "clipNorm": 1.0},
    }
    manifest = write_model_dir(os.path.join(FIXTURE_DIR, "model"), model, name="pytorch-sine-demo",
                               created_at=CREATED_AT, channels=CHANNELS, mean=mean, std=std,
                               center=center, scale=scale, threshold=threshold, training=training)
    # doc:end
    print(f"wrote test/fixtures/pytorch-model/model (train loss {train_loss:.4g}, validation "
          f"loss {validation_loss:.4g}, threshold {threshold['value']:.4g} from {n} readings)")

    check_against_reference(model)
    check_receptive_field(model)
    weights, _ = read_safetensors(os.path.join(FIXTURE_DIR, "model", "weights.safetensors"))
    for k, v in model.state_dict().items():
        assert np.array_equal(weights[k], v.numpy()), f"weights file differs from the model at {k}"

    # The test series: the 240 readings after the training recording, with one spike.
    test = values[TRAIN_SERIES_ROWS:].copy()
    test[SPIKE_ROW, SPIKE_CHANNEL] = round(test[SPIKE_ROW, SPIKE_CHANNEL] + SPIKE_SIZE, 3)
    test_series = normalize(test, mean, std)
    test_forecasts = forecasts_of(model, test_series)
    r = model.receptive_field
    scores = scores_of(residuals_of(test_series, test_forecasts, r), center, scale)
    exceeded = scores > threshold["value"]
    margin = np.min(np.abs(scores - threshold["value"])) / threshold["value"]
    # Every score is far enough from the threshold that convwatch's float32 rounding (well
    # under 1e-4 relative) cannot flip a flag, so the test may compare flags exactly.
    assert margin > 1e-3, f"a score lies within {margin:.2g} (relative) of the threshold"
    # The spike must stand out; a few noise readings may cross the threshold too (with
    # q = 1 - 1/n and margin 1.2 about one normal reading in 300 does), and the test checks
    # that convwatch flags exactly the same ones.
    assert exceeded[SPIKE_ROW - r], "the spike is not flagged"
    assert np.argmax(scores) == SPIKE_ROW - r, "the spike is not the highest score"
    assert scores[SPIKE_ROW - r] > 5 * threshold["value"], "the spike is too close to the threshold"
    write_csv(os.path.join(FIXTURE_DIR, "test-series.csv"), test)

    write_expected(os.path.join(FIXTURE_DIR, "expected.json"), {
        "generator": GENERATOR,
        **torch_versions(),
        "model": "model",
        "csv": "test-series.csv",
        "channels": CHANNELS,
        "receptiveField": r,
        "threshold": threshold["value"],
        "spike": {"row": SPIKE_ROW, "channel": SPIKE_CHANNEL, "size": SPIKE_SIZE},
        "t0Ms": T0_MS,
        "intervalMs": 1000,
        "weightsSha256": manifest["weights"]["sha256"],
        "readings": [[float(v) for v in row] for row in test],
        "normalized": [[float(v) for v in row] for row in test_series],
        "forecasts": [[float(v) for v in row] for row in test_forecasts],
        # scores[t] belongs to reading t; null during the warm-up (t < receptiveField)
        "scores": [None] * r + [float(s) for s in scores],
        "exceeded": [None] * r + [int(e) for e in exceeded],
        "closestRelativeDistanceToThreshold": float(margin),
    })


if __name__ == "__main__":
    main()
