"""A plain float64 NumPy Conv1d (forward and backward), independent of torch.

The generators use it only as a cross-check: every golden vector torch produces must agree with
this direct implementation of the definition, so a fixture can't silently encode a torch quirk
(or a generator mistake) as the expected answer without the generator failing first.
"""

import numpy as np


def pad_amounts(length_unused, kernel, options):
    """(left, right) padding for options['padding'] (int, 'same' or 'valid')."""
    padding = options["padding"]
    if padding == "valid":
        return 0, 0
    if padding == "same":
        total = options["dilation"] * (kernel - 1)
        left = total // 2
        return left, total - left
    return padding, padding


def source_index(length, left, right, mode):
    """For each position of the padded signal, the input position it reads (-1: a zero)."""
    idx = []
    for i in range(-left, length + right):
        if 0 <= i < length:
            idx.append(i)
        elif mode == "zeros":
            idx.append(-1)
        elif mode == "reflect":
            idx.append(-i if i < 0 else 2 * (length - 1) - i)
        elif mode == "replicate":
            idx.append(min(max(i, 0), length - 1))
        elif mode == "circular":
            idx.append(i % length)
        else:
            raise ValueError(f"unknown padding mode {mode!r}")
    return np.array(idx, dtype=np.int64)


def _padded(x, idx):
    xp = x[:, :, np.maximum(idx, 0)].copy()
    xp[:, :, idx < 0] = 0.0
    return xp


def _taps(xp, kernel, stride, dilation, out_len):
    """taps[j] = xp[:, :, j*d + t*s] for t in range(out_len): [K, N, Cin, Lout]."""
    return np.stack([
        xp[:, :, j * dilation: j * dilation + stride * (out_len - 1) + 1: stride]
        for j in range(kernel)
    ])


def conv1d_forward(x, w, b, options):
    """x [N, Cin, L], w [Cout, Cin/g, K], b [Cout] or None -> [N, Cout, Lout], all float64."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    n, cin, length = x.shape
    cout, cin_g, kernel = w.shape
    s, d, g = options["stride"], options["dilation"], options["groups"]
    left, right = pad_amounts(length, kernel, options)
    idx = source_index(length, left, right, options["paddingMode"])
    xp = _padded(x, idx)
    out_len = (len(idx) - d * (kernel - 1) - 1) // s + 1
    taps = _taps(xp, kernel, s, d, out_len)
    cout_g = cout // g
    y = np.zeros((n, cout, out_len))
    for gi in range(g):
        xs = taps[:, :, gi * cin_g:(gi + 1) * cin_g, :]        # [K, N, cin_g, Lout]
        ws = w[gi * cout_g:(gi + 1) * cout_g]                   # [cout_g, cin_g, K]
        y[:, gi * cout_g:(gi + 1) * cout_g, :] = np.einsum("kncl,ock->nol", xs, ws)
    if b is not None:
        y += np.asarray(b, dtype=np.float64)[None, :, None]
    return y


def conv1d_backward(x, w, has_bias, options, grad_out):
    """Gradients of sum(grad_out * conv1d(x, w, b)) w.r.t. x, w and b (None without bias)."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    go = np.asarray(grad_out, dtype=np.float64)
    n, cin, length = x.shape
    cout, cin_g, kernel = w.shape
    s, d, g = options["stride"], options["dilation"], options["groups"]
    left, right = pad_amounts(length, kernel, options)
    idx = source_index(length, left, right, options["paddingMode"])
    xp = _padded(x, idx)
    out_len = go.shape[2]
    taps = _taps(xp, kernel, s, d, out_len)
    cout_g = cout // g
    gw = np.zeros_like(w)
    gxp = np.zeros_like(xp)
    for gi in range(g):
        xs = taps[:, :, gi * cin_g:(gi + 1) * cin_g, :]
        gos = go[:, gi * cout_g:(gi + 1) * cout_g, :]          # [N, cout_g, Lout]
        ws = w[gi * cout_g:(gi + 1) * cout_g]
        gw[gi * cout_g:(gi + 1) * cout_g] = np.einsum("kncl,nol->ock", xs, gos)
        gtaps = np.einsum("nol,ock->kncl", gos, ws)             # [K, N, cin_g, Lout]
        for j in range(kernel):
            start = j * d
            gxp[:, gi * cin_g:(gi + 1) * cin_g, start: start + s * (out_len - 1) + 1: s] += gtaps[j]
    gx = np.zeros_like(x)
    for p, src in enumerate(idx):
        if src >= 0:
            gx[:, :, src] += gxp[:, :, p]
    gb = go.sum(axis=(0, 2)) if has_bias else None
    return gx, gw, gb
