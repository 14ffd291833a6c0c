#!/usr/bin/python3
"""Writes tests/data/optim/optim_reference.safetensors for tests/reference/optim_reference_test.cpp.

  tools/make_optim_fixtures.py [--out DIR]     (default: tests/data/optim)

A small network, float64 throughout:
  h = tanh(sum(x[N,1,K] * W1[H,K], axis 2) + b1[H]);  out = sum(h * w2[H], axis 1) + b2[1]
  loss = mean((out - y)^2)
Each run starts from the same initial parameters and takes 10 optimiser steps with torch.optim
(PyTorch 1.13 semantics); the file holds the inputs, the initial parameters, and per run the
parameters after the 10 steps ("<run>.<param>") and the loss before each step ("<run>.loss").
The runs (keep in sync with the C++ test; also stored in the metadata as JSON):
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pth_to_safetensors as st  # noqa: E402

N, K, H = 6, 4, 5
NAMES = ["W1", "b1", "w2", "b2"]

# name -> (optimiser, groups: list of (param names, options)), extras
RUNS = {
    "adam": ("adam", [(NAMES, dict(lr=1e-2))], {}),
    "adam_wd": ("adam", [(NAMES, dict(lr=1e-2, weight_decay=0.1))], {}),
    "adam_amsgrad": ("adam", [(NAMES, dict(lr=2e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05, amsgrad=True))], {}),
    "adam_groups_step": ("adam", [(["W1", "b1"], dict(lr=1e-2)), (["w2", "b2"], dict(lr=3e-3, weight_decay=0.1))],
                         {"step_lr": [3, 0.5]}),
    "adam_clip_value": ("adam", [(NAMES, dict(lr=1e-2))], {"clip_value": 0.05}),
    "sgd": ("sgd", [(NAMES, dict(lr=0.1))], {}),
    "sgd_momentum": ("sgd", [(NAMES, dict(lr=0.05, momentum=0.9))], {}),
    "sgd_momentum_wd": ("sgd", [(NAMES, dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01))], {}),
    "sgd_nesterov": ("sgd", [(NAMES, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01))], {}),
    "sgd_clip_norm": ("sgd", [(NAMES, dict(lr=0.05, momentum=0.9))], {"clip_norm": 0.5}),
}
STEPS = 10


def forward(p, x, y):
    h = torch.tanh((x * p["W1"]).sum(2) + p["b1"])
    out = (h * p["w2"]).sum(1) + p["b2"]
    return ((out - y) ** 2).mean()


def run(init, x, y, kind, groups, extras):
    p = {k: v.clone().requires_grad_(True) for k, v in init.items()}
    cls = torch.optim.Adam if kind == "adam" else torch.optim.SGD
    opt = cls([{"params": [p[n] for n in names], **o} for names, o in groups])
    sched = torch.optim.lr_scheduler.StepLR(opt, *extras["step_lr"]) if "step_lr" in extras else None
    losses, norms = [], []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = forward(p, x, y)
        loss.backward()
        losses.append(loss.item())
        if "clip_norm" in extras:
            norms.append(torch.nn.utils.clip_grad_norm_([p[n] for n in NAMES], extras["clip_norm"]).item())
        if "clip_value" in extras:
            torch.nn.utils.clip_grad_value_([p[n] for n in NAMES], extras["clip_value"])
        opt.step()
        if sched:
            sched.step()
    return {k: v.detach() for k, v in p.items()}, losses, norms


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(here, "..", "tests", "data", "optim"))
    a = ap.parse_args()
    torch.manual_seed(3)
    dt = torch.float64
    x = torch.randn(N, 1, K, dtype=dt)
    y = torch.randn(N, dtype=dt)
    init = {"W1": torch.randn(H, K, dtype=dt) * 0.5, "b1": torch.randn(H, dtype=dt) * 0.1,
            "w2": torch.randn(H, dtype=dt) * 0.5, "b2": torch.zeros(1, dtype=dt)}
    out = {"x": x, "y": y}
    out.update({"init." + k: v for k, v in init.items()})
    for name, (kind, groups, extras) in RUNS.items():
        params, losses, norms = run(init, x, y, kind, groups, extras)
        for k, v in params.items():
            out[f"{name}.{k}"] = v
        out[f"{name}.loss"] = torch.tensor(losses, dtype=dt)
        if norms:
            out[f"{name}.clip_norm"] = torch.tensor(norms, dtype=dt)
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, "optim_reference.safetensors")
    meta = {"torch": torch.__version__, "steps": str(STEPS), "runs": json.dumps(RUNS)}
    st.write_safetensors(path, out, meta)
    print(f"wrote {path} ({os.path.getsize(path)} bytes, {len(out)} tensors, torch {torch.__version__})")


if __name__ == "__main__":
    main()
