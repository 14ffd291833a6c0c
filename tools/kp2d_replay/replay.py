#!/usr/bin/python3
"""Replays a kpt KP2D training run in PyTorch: the same initial weights, the same batches, the
PyTorch twin of KeyPointNet (tools/torch_models.py) and of the loss (tools/make_loss_fixtures.py),
Adam; prints each step's loss terms beside the run's log.jsonl. The first step must agree to
1e-3 (relative) on every term: that is kpt's whole training step (data, network, loss) against
PyTorch. Later steps drift apart slowly (float rounding, amplified by training), so for them
compare the trend. Dropout must be off in the run ({"dropout": false}): its masks are not replayed.

    build/bin/kpt init --model keypointnet --variant v2 --seed 42 --output init.safetensors
    echo '{"dropout": false}' > nodrop.json
    build/bin/kpt train --model keypointnet --variant v2 --config nodrop.json --images photos \\
        --out run --steps 48 --batch-size 4 --seed 42 --threads 1 --log-every 1
    cmake --build build --target kpt-kp2d-batches
    build/bin/kpt-kp2d-batches --images photos --seed 42 --count 192 --out batches
    /usr/bin/python3 tools/kp2d_replay/replay.py --batches batches --init init.safetensors --run run \\
        --steps 48 --batch-size 4

(The trainer initialises KeyPointNet from --seed exactly as `kpt init` does.) Variants without
IO-Net only (v0, v1, v2): IO-Net's term is left out. Needs torch: /usr/bin/python3.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import make_loss_fixtures as L  # noqa: E402
import torch_models  # noqa: E402
from pth_to_safetensors import read_safetensors  # noqa: E402

TERMS = [("location", "loc"), ("descriptor", "desc"), ("usp", "usp"), ("score_mse", "mse")]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batches", required=True, help="kpt-kp2d-batches --out folder")
    ap.add_argument("--init", required=True, help="the run's initial weights (kpt init with the run's seed)")
    ap.add_argument("--run", required=True, help="the kpt run folder (its log.jsonl, logged every step)")
    ap.add_argument("--variant", default="v2", choices=["v0", "v1", "v2"])
    ap.add_argument("--steps", type=int, default=48)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--lr", type=float, default=1e-3)
    a = ap.parse_args()

    torch.set_default_dtype(torch.float32)
    torch.set_num_threads(1)
    tgt = np.load(os.path.join(a.batches, "target.npy"), mmap_mode="r")
    src = np.load(os.path.join(a.batches, "source.npy"), mmap_mode="r")
    hn_all = np.load(os.path.join(a.batches, "hn.npy"))
    if len(tgt) < a.steps * a.batch_size:
        sys.exit(f"replay: {a.batches} holds {len(tgt)} pairs, fewer than {a.steps} steps of {a.batch_size}")
    with open(os.path.join(a.run, "log.jsonl")) as f:
        log = {j["step"]: j for j in map(json.loads, f)}
    net, _ = torch_models.build("keypointnet", a.variant)
    weights, _ = read_safetensors(a.init)
    net.load_state_dict(weights)
    net.drop = torch.nn.Identity()
    net.train()
    opt = torch.optim.Adam(net.parameters(), lr=a.lr)
    o = dict(assoc_threshold=4.0, relax=4.0, margin=0.2, min_border_cells=20, io_points=300,
             io_inlier_threshold=4.0, io_min_inliers=10**9, weights=[1, 2, 1, 2, 0])  # IO-Net off
    ok = True
    print("step  " + "  ".join(f"{k:>19}" for k, _ in TERMS) + "   recall (torch / kpt)")
    for s in range(a.steps):
        sl = slice(s * a.batch_size, (s + 1) * a.batch_size)
        x = torch_models.kp2d_normalize(torch.from_numpy(np.array(tgt[sl])))
        xw = torch_models.kp2d_normalize(torch.from_numpy(np.array(src[sl])))
        hn = torch.from_numpy(hn_all[sl]).float()
        s_s, p_s, f_s = net(xw)
        s_t, p_t, f_t = net(x)
        terms, diag = L.kp2d(s_s, p_s, f_s, s_t, p_t, f_t, hn, o, {}, ionet=L.toy_ionet)
        opt.zero_grad()
        terms["total"].backward()
        opt.step()
        k = log.get(s + 1)
        if k is None:
            sys.exit(f"replay: {a.run}/log.jsonl has no line for step {s + 1} (train with --log-every 1)")
        cells = []
        for name, key in TERMS:
            t, kv = terms[key].item(), k[name]
            cells.append(f"{t:+9.4f} / {kv:+8.4f}")
            if s == 0 and abs(t - kv) > 1e-3 * max(abs(t), 1e-2):
                ok = False
                print(f"step 1: {name} differs: torch {t} kpt {kv}")
        print(f"{s + 1:4d}  " + "  ".join(cells) + f"   {diag['recall']:.4f} / {k['recall']:.4f}", flush=True)
    print("step 1 agrees (every term within 1e-3 relative)" if ok else "STEP 1 DIFFERS")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
