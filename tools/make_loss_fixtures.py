#!/usr/bin/python3
"""Fixtures for tests/reference/losses_reference_test.cpp: the SuperPoint (SPEC 2.2-2.3) and KP2D
(SPEC 6.1-6.6b) losses, implemented here independently in PyTorch from the SPEC, on small fixed
random inputs. Inputs are float32-representable; everything is computed in float64.

Writes tests/data/losses/<case>/{inputs}.npy, <term>.npy (0-d float64) and d<term>_<input>.npy
(gradient of that term w.r.t. that input), plus params.json. Run from the repository root:
    tools/make_loss_fixtures.py
"""
import json
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "losses")


def f32(a):
    """float32-representable float64 array."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def save(folder, name, arr):
    arr = np.asarray(arr)
    if arr.dtype == np.float64 or arr.dtype == np.float32:
        arr = arr.astype(np.float64)
    np.save(os.path.join(folder, name + ".npy"), arr)


def write_case(name, inputs, terms, grads, params):
    folder = os.path.join(ROOT, name)
    os.makedirs(folder, exist_ok=True)
    for k, v in inputs.items():
        a = np.asarray(v)
        save(folder, k, a.astype(np.float32) if a.dtype == np.float64 and k != "homographies" else a)
    for k, v in terms.items():
        save(folder, k, np.array(v, dtype=np.float64))
    for k, v in grads.items():
        save(folder, k, v)
    with open(os.path.join(folder, "params.json"), "w") as f:
        json.dump(params, f, indent=0, sort_keys=True)


def term_grads(term_name, value, named_inputs):
    """d<term>_<input> for every input the term has a non-zero gradient for."""
    out = {}
    gs = torch.autograd.grad(value, list(named_inputs.values()), retain_graph=True, allow_unused=True)
    for (k, x), g in zip(named_inputs.items(), gs):
        # An all-zero gradient is not stored: the test then requires zero (or no) gradient.
        if g is not None and bool((g != 0).any()):
            out["d%s_%s" % (term_name, k)] = g.detach().numpy()
    return out


# ---------------------------------------------------------------- SuperPoint (SPEC 2.2, 2.3)

def detector_loss(semi, labels, w):
    ce = F.cross_entropy(semi, labels, reduction="none")
    if w is None:
        return ce.mean()
    return (ce * w).sum() / (w != 0).sum()


def descriptor_loss(desc, wdesc, hs, valid, lambda_d, mp, mn, radius, offset, cell=8):
    n, d, hc, wc = desc.shape
    m = hc * wc
    ys, xs = torch.meshgrid(torch.arange(hc), torch.arange(wc), indexing="ij")
    centres = torch.stack([xs.reshape(-1) * cell + offset, ys.reshape(-1) * cell + offset], 1).double()  # (x, y)
    hom = torch.cat([centres, torch.ones(m, 1)], 1)
    w = torch.einsum("bij,mj->bmi", hs, hom)
    warped = w[..., :2] / w[..., 2:]
    dist = ((warped[:, :, None, :] - centres[None, None, :, :]) ** 2).sum(-1).sqrt()
    s = (dist <= radius).double()
    dot = torch.bmm(desc.reshape(n, d, m).transpose(1, 2), wdesc.reshape(n, d, m))
    l = lambda_d * s * torch.relu(mp - dot) + (1 - s) * torch.relu(dot - mn)
    v = valid.reshape(n, 1, m)
    return (l * v).sum() / (valid.sum() * m)


def random_homography(rng, h, w, shift, persp):
    c = np.array([[1, 0, -w / 2], [0, 1, -h / 2], [0, 0, 1.0]])
    a = np.eye(3) + rng.uniform(-0.08, 0.08, (3, 3))
    a[2, :2] = rng.uniform(-persp, persp, 2)
    a[2, 2] = 1
    a[:2, 2] = rng.uniform(-shift, shift, 2)
    hm = np.linalg.inv(c) @ a @ c
    return hm / hm[2, 2]


def superpoint_case(name, seed, radius, masked):
    rng = np.random.default_rng(seed)
    n, d, hc, wc = 2, 8, 4, 6
    semi = f32(rng.uniform(-3, 3, (n, 65, hc, wc)))
    wsemi = f32(rng.uniform(-3, 3, (n, 65, hc, wc)))
    labels = rng.integers(0, 65, (n, hc, wc))
    wlabels = rng.integers(0, 65, (n, hc, wc))
    desc = f32(rng.uniform(-0.6, 0.6, (n, d, hc, wc)))
    wdesc = f32(rng.uniform(-0.6, 0.6, (n, d, hc, wc)))
    hs = np.stack([random_homography(rng, hc * 8, wc * 8, 6, 1e-3) for _ in range(n)])
    valid = f32(rng.uniform(0, 1, (n, hc, wc)) < 0.8) if masked else np.ones((n, hc, wc))
    wvalid = f32(rng.uniform(0, 1, (n, hc, wc)) < 0.8) if masked else np.ones((n, hc, wc))
    lam, lambda_d = 1e-4, 250.0
    # keep every correspondence distance away from the radius (float vs double decisions)
    T = {k: torch.tensor(v, requires_grad=True) for k, v in
         dict(semi=semi, warped_semi=wsemi, desc=desc, warped_desc=wdesc).items()}
    hs_t = torch.tensor(hs)
    lab, wlab = torch.tensor(labels), torch.tensor(wlabels)
    vt, wvt = torch.tensor(valid), torch.tensor(wvalid)
    det = detector_loss(T["semi"], lab, vt if masked else None)
    wdet = detector_loss(T["warped_semi"], wlab, wvt if masked else None)
    des = descriptor_loss(T["desc"], T["warped_desc"], hs_t, wvt, lambda_d, 1.0, 0.2, radius, 4.0)
    total = det + wdet + lam * des
    terms = dict(detector=det.item(), warped_detector=wdet.item(), descriptor=des.item(), total=total.item())
    grads = {}
    for k, v in dict(detector=det, warped_detector=wdet, descriptor=des, total=total).items():
        grads.update(term_grads(k, v, T))
    inputs = dict(semi=semi, warped_semi=wsemi, desc=desc, warped_desc=wdesc, homographies=hs,
                  labels=labels.astype(np.int64), warped_labels=wlabels.astype(np.int64),
                  cell_valid=valid, warped_cell_valid=wvalid)
    write_case(name, inputs, terms, grads, dict(radius=radius, masked=masked, lambda_=lam, lambda_d=lambda_d))
    return terms


# ---------------------------------------------------------------- KP2D (SPEC 6.1-6.6b)

IO_W = [0.3, -0.2, 0.25, 0.1, -0.5]
IO_B = 0.1


def toy_ionet(x):
    """Stand-in for IO-Net, [B,5,P,1] -> [B,1,P,1]: tanh(sum_c w_c x_c + b)."""
    w = torch.tensor(IO_W).view(1, 5, 1, 1)
    return torch.tanh((x * w).sum(1, keepdim=True) + IO_B)


def kp2d(s_s, p_s, F_s, s_t, p_t, F_t, hn, o, checks, ionet=toy_ionet):
    """The KP2D loss terms (SPEC 6.6b); `ionet` maps [B,5,P,1] to [B,1,P,1] (the toy one for fixtures,
    an InlierNet in bench/torch_train_steps.py)."""
    b, _, hc, wc = s_s.shape
    m = hc * wc
    h, w = hc * 8, wc * 8
    half = torch.tensor([(w - 1) / 2, (h - 1) / 2])
    ps = p_s.reshape(b, 2, m).transpose(1, 2)
    pt = p_t.reshape(b, 2, m).transpose(1, 2)
    qs = ps / half - 1
    qt = pt / half - 1
    hom = torch.cat([qs, torch.ones(b, m, 1)], 2)
    wq = torch.bmm(hom, hn.transpose(1, 2))
    qw = wq[..., :2] / wq[..., 2:]
    pw = (qw + 1) * half
    ys, xs = torch.meshgrid(torch.arange(hc), torch.arange(wc), indexing="ij")
    interior = ((ys > 0) & (ys < hc - 1) & (xs > 0) & (xs < wc - 1)).reshape(1, m)
    border = interior & (qw.abs() < 1).all(2)
    checks["border_margin"] = min(checks.get("border_margin", 9), (1 - qw.abs()).abs().min().item())
    D = ((pw[:, :, None, :] - pt[:, None, :, :]) ** 2).sum(-1).sqrt()
    d, jstar = D.min(2)
    srt = D.sort(2).values
    checks["assoc_gap"] = (srt[..., 1] - srt[..., 0]).min().item()
    checks["assoc_margin"] = (d - o["assoc_threshold"]).abs().min().item()
    valid = (d < o["assoc_threshold"]) & border
    nv = valid.sum()
    loc = d[valid].mean()
    dbar = d[valid].mean()
    st = s_t.reshape(b, m)
    ss = s_s.reshape(b, m)
    usp = ((torch.gather(st, 1, jstar) + ss) * (d - dbar))[valid].mean()
    hat = F.grid_sample(s_t, qw.detach().view(b, 1, m, 2), align_corners=True).view(b, m)
    mse = ((hat - ss) ** 2)[border].mean()
    # triplet
    desc = torch.zeros(())
    recall, used = 0.0, 0
    for i in range(b):
        cells = border[i].nonzero().view(-1)
        n = len(cells)
        if n < o["min_border_cells"]:
            continue
        used += 1
        a = F.grid_sample(F_s[i:i + 1], qs[i, cells].detach().view(1, 1, n, 2), align_corners=True).view(-1, n).t()
        p = F.grid_sample(F_t[i:i + 1], qw[i, cells].detach().view(1, 1, n, 2), align_corners=True).view(-1, n).t()
        a = F.normalize(a, dim=1)
        p = F.normalize(p, dim=1)
        with torch.no_grad():
            dm = (2 - 2 * (a @ p.t()).clamp(-1, 1)).sqrt()
            loc_w = pw[i, cells].detach()
            dx = (loc_w[None, :, 0] - loc_w[:, None, 0]).abs()
            dy = (loc_w[None, :, 1] - loc_w[:, None, 1]).abs()
            near = (dx <= o["relax"]) & (dy <= o["relax"])
            checks["relax_margin"] = min(checks.get("relax_margin", 9), (torch.maximum(dx, dy) - o["relax"]).abs().min().item())
            dmm = torch.where(near, torch.full_like(dm, 2.0), dm)
            s2 = dmm.sort(1).values
            checks["neg_gap"] = min(checks.get("neg_gap", 9), (s2[:, 1] - s2[:, 0]).min().item())
            neg = dmm.argmin(1)
            recall += (dm.argmin(1) == torch.arange(n)).double().mean().item()
        desc = desc + F.triplet_margin_loss(a, p, p[neg], margin=o["margin"], p=2, eps=1e-6)
    desc = desc / b
    # IO-Net
    P = o["io_points"]
    si = torch.topk(ss.detach(), P, dim=1, largest=False).indices.sort(1).values
    ti = torch.topk(st.detach(), P, dim=1, largest=False).indices.sort(1).values
    sall = ss.detach().sort(1).values
    tall = st.detach().sort(1).values
    checks["topk_gap"] = min((sall[:, P] - sall[:, P - 1]).min().item(), (tall[:, P] - tall[:, P - 1]).min().item())
    qs_sel = torch.gather(qs, 1, si[..., None].expand(b, P, 2))
    qt_sel = torch.gather(qt, 1, ti[..., None].expand(b, P, 2))
    fs = F.normalize(F.grid_sample(F_s, qs_sel.view(b, 1, P, 2), align_corners=True).view(b, -1, P), dim=1)
    ft = F.normalize(F.grid_sample(F_t, qt_sel.view(b, 1, P, 2), align_corners=True).view(b, -1, P), dim=1)
    dmat = (2 - 2 * torch.bmm(fs.transpose(1, 2), ft).clamp(-1, 1)).sqrt()
    dmin, jn = dmat.min(2)
    s3 = dmat.sort(2).values
    checks["io_gap"] = (s3[..., 1] - s3[..., 0]).min().item()
    assoc = torch.gather(qt_sel, 1, jn[..., None].expand(b, P, 2))
    x = torch.cat([qs_sel, assoc, dmin[..., None]], 2).transpose(1, 2).reshape(b, 5, P, 1)
    r = ionet(x).view(b, P)
    with torch.no_grad():
        tgt_pix = torch.gather(torch.gather(pt, 1, ti[..., None].expand(b, P, 2)), 1, jn[..., None].expand(b, P, 2))
        src_w = torch.gather(pw, 1, si[..., None].expand(b, P, 2))
        gd = ((tgt_pix - src_w) ** 2).sum(-1).sqrt()
        checks["io_margin"] = (gd - o["io_inlier_threshold"]).abs().min().item()
        inl = gd < o["io_inlier_threshold"]
        gt = torch.where(inl, torch.ones_like(gd), -torch.ones_like(gd))
    n_in = int(inl.sum())
    io = ((r - gt) ** 2).mean() if n_in > o["io_min_inliers"] else torch.zeros(())
    wt = o["weights"]
    total = wt[0] * loc + wt[1] * desc + wt[2] * usp + wt[3] * mse + wt[4] * io
    diag = dict(border_cells=int(border.sum()), valid_cells=int(nv), triplet_images=used,
                recall=recall / b, io_inliers=n_in, io_active=n_in > o["io_min_inliers"])
    return dict(loc=loc, desc=desc, usp=usp, mse=mse, io=io, total=total), diag


def kp2d_case(name, seed, o, target_noise):
    for attempt in range(200):
        rng = np.random.default_rng(seed + 1000 * attempt)
        b, hc, wc, d = 2, 8, 8, 8
        h, w = hc * 8, wc * 8
        ys, xs = np.meshgrid(np.arange(hc), np.arange(wc), indexing="ij")
        p_s = np.zeros((b, 2, hc, wc))
        p_s[:, 0] = xs * 8 + 3.5 + rng.uniform(-3, 3, (b, hc, wc))
        p_s[:, 1] = ys * 8 + 3.5 + rng.uniform(-3, 3, (b, hc, wc))
        p_s = f32(p_s)
        hn = []
        for _ in range(b):
            a = np.eye(3) + rng.uniform(-0.06, 0.06, (3, 3))
            a[2, 2] = 1
            hn.append(a / a[2, 2])
        hn = np.stack(hn)
        # target keypoints: the warped source points plus noise (most within 4 px), some random
        half = np.array([(w - 1) / 2, (h - 1) / 2])
        q = p_s.reshape(b, 2, -1).transpose(0, 2, 1) / half - 1
        qh = np.concatenate([q, np.ones((b, q.shape[1], 1))], 2) @ hn.transpose(0, 2, 1)
        pw = (qh[..., :2] / qh[..., 2:] + 1) * half
        pt = pw + rng.uniform(-target_noise, target_noise, pw.shape)
        far = rng.uniform(0, 1, pw.shape[:2]) < 0.2
        pt[far] = rng.uniform(0, w - 1, (far.sum(), 2))
        p_t = f32(pt.transpose(0, 2, 1).reshape(b, 2, hc, wc))
        s_s = f32(np.stack([rng.permutation(hc * wc) for _ in range(b)]).reshape(b, 1, hc, wc) / (hc * wc) + 0.01)
        s_t = f32(np.stack([rng.permutation(hc * wc) for _ in range(b)]).reshape(b, 1, hc, wc) / (hc * wc) + 0.01)
        F_s = f32(rng.uniform(-1, 1, (b, d, h // 4, w // 4)))
        F_t = f32(rng.uniform(-1, 1, (b, d, h // 4, w // 4)))
        T = {k: torch.tensor(v, requires_grad=True) for k, v in
             dict(source_score=s_s, source_coord=p_s, source_desc=F_s,
                  target_score=s_t, target_coord=p_t, target_desc=F_t).items()}
        checks = {}
        terms, diag = kp2d(T["source_score"], T["source_coord"], T["source_desc"], T["target_score"],
                           T["target_coord"], T["target_desc"], torch.tensor(hn), o, checks)
        ok = (checks["border_margin"] > 1e-3 and checks["assoc_gap"] > 1e-3 and checks["assoc_margin"] > 1e-3 and
              checks.get("relax_margin", 1) > 1e-3 and checks.get("neg_gap", 1) > 1e-4 and
              checks["topk_gap"] > 1e-3 and checks["io_gap"] > 1e-4 and checks["io_margin"] > 1e-3 and
              diag["triplet_images"] >= 1 and diag["valid_cells"] > 0 and
              diag["io_active"] == o["want_io_active"])
        if ok:
            break
    else:
        sys.exit("kp2d_case %s: no draw passed the margin checks" % name)
    grads = {}
    for k, v in terms.items():
        if v.requires_grad:
            grads.update(term_grads(k, v, T))
    inputs = dict(source_score=s_s, source_coord=p_s, source_desc=F_s, target_score=s_t, target_coord=p_t,
                  target_desc=F_t, homographies=hn)
    params = {k: v for k, v in o.items() if k not in ("weights", "want_io_active")}
    params.update({"w_" + n: v for n, v in zip(["loc", "desc", "usp", "mse", "io"], o["weights"])})
    params.update(diag)
    params.update({"margin_" + k: v for k, v in checks.items()})
    params["io_w"] = IO_W
    params["io_b"] = IO_B
    params["attempt"] = attempt
    write_case(name, inputs, {k: v.item() for k, v in terms.items()}, grads, params)
    return {k: v.item() for k, v in terms.items()}, diag


def main():
    if os.path.isdir(ROOT):
        shutil.rmtree(ROOT)
    os.makedirs(ROOT)
    print("superpoint_paper", superpoint_case("superpoint_paper", 1, 8.0, True))
    print("superpoint_rp_radius", superpoint_case("superpoint_rp_radius", 2, 7.5, False))
    base = dict(assoc_threshold=4.0, relax=4.0, margin=0.2, min_border_cells=20, io_points=20,
                io_inlier_threshold=4.0, io_min_inliers=10, weights=[1, 2, 1, 2, 1])
    # IO active: generous inlier threshold and a low minimum.
    active = dict(base, io_inlier_threshold=24.0, io_min_inliers=2, want_io_active=True)
    print("kp2d_io_active", kp2d_case("kp2d_io_active", 10, active, 2.5))
    # SPEC defaults (io inactive on random descriptors), other weights.
    inactive = dict(base, want_io_active=False, weights=[0.5, 1.5, 2, 3, 0.7], relax=6.0)
    print("kp2d_defaults", kp2d_case("kp2d_defaults", 20, inactive, 3.0))


if __name__ == "__main__":
    main()
