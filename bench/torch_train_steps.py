"""The PyTorch side of kpt-bench's training cases (bench/macro/training.cpp), for
bench/compare_torch.py: 8 source + 8 target images at 240x320, both forwards, the paper's loss,
backward, Adam. The losses are tools/make_loss_fixtures.py's torch implementations (the ones the
C++ losses are tested against)."""
import math
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))

import make_loss_fixtures as L  # noqa: E402
import torch_models  # noqa: E402

torch.set_default_dtype(torch.float32)  # the fixture script computes in float64; benchmarks run in float32

BATCH, H, W = 8, 240, 320


def mild_homography(i):
    """Image -> warped pixels: a small rotation and shift about the centre (as training.cpp)."""
    a = 0.05 * (i % 3 - 1)
    c, s = math.cos(a), math.sin(a)
    h = torch.tensor([[c, -s, 4.0 * (i % 2)], [s, c, -3.0], [0, 0, 1]], dtype=torch.float64)
    t = torch.tensor([[1, 0, W / 2], [0, 1, H / 2], [0, 0, 1]], dtype=torch.float64)
    ti = torch.tensor([[1, 0, -W / 2], [0, 1, -H / 2], [0, 0, 1]], dtype=torch.float64)
    return t @ h @ ti


def make(family, net, h, w):
    assert (h, w) == (H, W)
    net.train()
    if family == "superpoint":
        opt = torch.optim.Adam(net.parameters(), lr=1e-4)
        x, xw = torch.rand(BATCH, 1, H, W), torch.rand(BATCH, 1, H, W)
        labels = torch.randint(0, 65, (BATCH, H // 8, W // 8))
        wlabels = torch.randint(0, 65, (BATCH, H // 8, W // 8))
        hs = torch.stack([mild_homography(i) for i in range(BATCH)])
        valid = torch.ones(BATCH, H // 8, W // 8)

        def step():
            semi, desc = net(x)
            wsemi, wdesc = net(xw)
            loss = (L.detector_loss(semi, labels, None) + L.detector_loss(wsemi, wlabels, None)
                    + 1e-4 * L.descriptor_loss(desc, wdesc, hs, valid, 250, 1, 0.2, 8, 4))
            opt.zero_grad()
            loss.backward()
            opt.step()
        return step

    io = torch_models.InlierNet()
    io.train()
    opt = torch.optim.Adam([{"params": net.parameters()}, {"params": io.parameters()}], lr=1e-4)
    x = torch_models.kp2d_normalize(torch.rand(BATCH, 3, H, W))
    xw = torch_models.kp2d_normalize(torch.rand(BATCH, 3, H, W))
    n = torch.tensor([[2 / (W - 1), 0, -1], [0, 2 / (H - 1), -1], [0, 0, 1]], dtype=torch.float64)
    hn = torch.stack([n @ torch.linalg.inv(mild_homography(i)) @ torch.linalg.inv(n) for i in range(BATCH)]).float()
    options = dict(assoc_threshold=4.0, relax=4.0, margin=0.2, min_border_cells=20, io_points=300,
                   io_inlier_threshold=4.0, io_min_inliers=10, weights=[1, 2, 1, 2, 1])

    def step():
        s_s, p_s, f_s = net(xw)
        s_t, p_t, f_t = net(x)
        terms, _ = L.kp2d(s_s, p_s, f_s, s_t, p_t, f_t, hn, options, {}, ionet=io)
        opt.zero_grad()
        terms["total"].backward()
        opt.step()
    return step
