#!/usr/bin/python3
"""PyTorch models with the layer order and state_dict keys of kpt's models (for parity checks).

Written from /work/shared/SPEC.md (sections 1.1, 5.1, 5.2 and Appendix B), not copied from the
reference code. The state_dict keys equal those of
  SuperPointNet      magicleap's SuperPointNet (superpoint_v1.pth):  conv1a.weight ... convDb.bias
  SuperPointBN       rpautrat's superpoint_pytorch.py:  backbone.{stage}.{block}.{conv,bn}.*,
                     detector.{0,1}.*, descriptor.{0,1}.*   (conv -> ReLU -> BatchNorm(eps 1e-3))
  KeypointNet        TRI-ML/KP2D KeypointNet (master): conv1a.0.weight, conv1a.1.running_mean, ...
  InlierNet          TRI-ML/KP2D InlierNet: p_in.{0,1}.*, {i}s0 ... {i}s3, p_out.*
and so equal kpt's nn::visit_params names (include/kpt/models/*.hpp), in the same order.

Every width is a constructor argument, so the narrow variants used by tests/data/models can be
built. Forward outputs are those of the kpt models' forward():
  SuperPoint*: (semi [N, 65, H/8, W/8] logits, desc [N, D, H/8, W/8] L2-normalised) or (semi,)
  KeypointNet: (score, coord, desc) as SPEC 5.1 (eval: descriptors sampled at coord)
  InlierNet:   logits [N, 1, P, 1]
Importable (tools/make_model_fixtures.py, tools/check_models_torch.py); needs /usr/bin/python3.
"""
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F


# ---- SuperPoint ----------------------------------------------------------------------------------
class SuperPointNet(nn.Module):
    """magicleap layout: plain convs with bias, ReLU between them, no BatchNorm (SPEC 1.1)."""

    def __init__(self, in_channels=1, widths=(64, 64, 128, 128), head_width=256, descriptor_size=256,
                 descriptor_head=True):
        super().__init__()
        c1, c2, c3, c4 = widths
        cell = 8
        self.descriptor_head = descriptor_head
        # Registration order = state_dict order.
        self.conv1a = nn.Conv2d(in_channels, c1, 3, padding=1)
        self.conv1b = nn.Conv2d(c1, c1, 3, padding=1)
        self.conv2a = nn.Conv2d(c1, c2, 3, padding=1)
        self.conv2b = nn.Conv2d(c2, c2, 3, padding=1)
        self.conv3a = nn.Conv2d(c2, c3, 3, padding=1)
        self.conv3b = nn.Conv2d(c3, c3, 3, padding=1)
        self.conv4a = nn.Conv2d(c3, c4, 3, padding=1)
        self.conv4b = nn.Conv2d(c4, c4, 3, padding=1)
        self.convPa = nn.Conv2d(c4, head_width, 3, padding=1)
        self.convPb = nn.Conv2d(head_width, cell * cell + 1, 1)
        if descriptor_head:
            self.convDa = nn.Conv2d(c4, head_width, 3, padding=1)
            self.convDb = nn.Conv2d(head_width, descriptor_size, 1)

    def forward(self, x):
        stages = [(self.conv1a, self.conv1b), (self.conv2a, self.conv2b), (self.conv3a, self.conv3b),
                  (self.conv4a, self.conv4b)]
        for i, (a, b) in enumerate(stages):
            x = F.relu(b(F.relu(a(x))))
            if i < 3:
                x = F.max_pool2d(x, 2, 2)
        semi = self.convPb(F.relu(self.convPa(x)))
        if not self.descriptor_head:
            return (semi,)
        d = self.convDb(F.relu(self.convDa(x)))
        return semi, d / d.norm(p=2, dim=1, keepdim=True)


class VGGBlock(nn.Sequential):
    """conv -> ReLU -> BatchNorm (final 1x1 convs: conv -> BatchNorm); children 'conv', 'bn'."""

    def __init__(self, c_in, c_out, k, relu=True, eps=1e-3, momentum=0.1):
        layers = [("conv", nn.Conv2d(c_in, c_out, k, padding=(k - 1) // 2))]
        if relu:
            layers.append(("relu", nn.ReLU()))  # no parameters: not in the state_dict
        layers.append(("bn", nn.BatchNorm2d(c_out, eps=eps, momentum=momentum)))
        super().__init__(OrderedDict(layers))


class SuperPointBN(nn.Module):
    """rpautrat's PyTorch port layout (SPEC 1.1 'RP'), BatchNorm eps 1e-3 after every conv."""

    def __init__(self, in_channels=1, widths=(64, 64, 128, 128), head_width=256, descriptor_size=256,
                 descriptor_head=True, eps=1e-3, momentum=0.1):
        super().__init__()
        chans = [in_channels, *widths]
        stages = []
        for i in range(4):
            blocks = [VGGBlock(chans[i], chans[i + 1], 3, eps=eps, momentum=momentum),
                      VGGBlock(chans[i + 1], chans[i + 1], 3, eps=eps, momentum=momentum)]
            if i < 3:
                blocks.append(nn.MaxPool2d(2, 2))
            stages.append(nn.Sequential(*blocks))
        self.backbone = nn.Sequential(*stages)
        self.detector = nn.Sequential(VGGBlock(widths[3], head_width, 3, eps=eps, momentum=momentum),
                                      VGGBlock(head_width, 65, 1, relu=False, eps=eps, momentum=momentum))
        self.descriptor_head = descriptor_head
        if descriptor_head:
            self.descriptor = nn.Sequential(
                VGGBlock(widths[3], head_width, 3, eps=eps, momentum=momentum),
                VGGBlock(head_width, descriptor_size, 1, relu=False, eps=eps, momentum=momentum))

    def forward(self, x):
        f = self.backbone(x)
        semi = self.detector(f)
        if not self.descriptor_head:
            return (semi,)
        d = self.descriptor(f)
        return semi, d / d.norm(p=2, dim=1, keepdim=True)


# ---- KeyPointNet ---------------------------------------------------------------------------------
def kp2d_normalize(rgb, use_color=True):
    """KP2D's input normalisation of an RGB batch in [0, 1] (SPEC 5.1): (x - 0.5) * 0.225, and the
    channel mean for the gray variant."""
    x = (rgb - 0.5) * 0.225
    return x if use_color else x.mean(1, keepdim=True)


def conv_bn(c_in, c_out, momentum=0.1):
    """KP2D's block: Sequential(Conv 3x3 without bias, BatchNorm2d) -> keys '.0.weight', '.1.*'."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out, momentum=momentum))


class KeypointNet(nn.Module):
    """KP2D's KeyPointNet (SPEC 5.1) with configurable widths (defaults: the paper's V4)."""

    def __init__(self, use_color=True, do_upsample=True, with_drop=True, do_cross=True,
                 widths=(32, 64, 128, 256), head_width=256, upsample_width=512, descriptor_size=256,
                 dropout_p=0.2, leaky_slope=0.01):
        super().__init__()
        c1, c2, c3, c4 = widths
        c0 = 3 if use_color else 1
        self.use_color, self.do_upsample, self.with_drop = use_color, do_upsample, with_drop
        self.cross_ratio = 2.0 if do_cross else 1.0
        self.cell = 8
        self.slope = leaky_slope
        self.conv1a = conv_bn(c0, c1)
        self.conv1b = conv_bn(c1, c1)
        self.conv2a = conv_bn(c1, c2)
        self.conv2b = conv_bn(c2, c2)
        self.conv3a = conv_bn(c2, c3)
        self.conv3b = conv_bn(c3, c3)
        self.conv4a = conv_bn(c3, c4)
        self.conv4b = conv_bn(c4, c4)
        self.convDa = conv_bn(c4, head_width)
        self.convDb = nn.Conv2d(head_width, 1, 3, padding=1)
        self.convPa = conv_bn(c4, head_width)
        self.convPb = nn.Conv2d(head_width, 2, 3, padding=1)
        self.convFa = conv_bn(c4, head_width)
        # Allocated (and in the state_dict) even when do_upsample is off, as KP2D does.
        self.convFb = conv_bn(head_width, upsample_width)
        # Input of convFaa: [shuffled convFb, skip], or convFa's output without upsampling (KP2D
        # declares it with c4 inputs, equal to both at full width).
        faa_in = upsample_width // 4 + c3 if do_upsample else head_width
        self.convFaa = conv_bn(faa_in, head_width)
        self.convFbb = nn.Conv2d(head_width, descriptor_size, 3, padding=1)
        self.drop = nn.Dropout2d(dropout_p) if with_drop else nn.Identity()

    def act(self, x):
        return F.leaky_relu(x, self.slope)

    def forward(self, x):
        """x: the normalised batch (kp2d_normalize). Returns score, coord, desc (SPEC 5.1)."""
        N, _, H, W = x.shape
        x = self.drop(self.act(self.conv1b(self.act(self.conv1a(x)))))
        x = F.max_pool2d(x, 2, 2)
        x = self.drop(self.act(self.conv2b(self.act(self.conv2a(x)))))
        x = F.max_pool2d(x, 2, 2)
        skip = self.drop(self.act(self.conv3b(self.act(self.conv3a(x)))))
        x = F.max_pool2d(skip, 2, 2)
        x = self.drop(self.act(self.conv4b(self.act(self.conv4a(x)))))
        _, _, hc, wc = x.shape

        score = torch.sigmoid(self.convDb(self.drop(self.act(self.convDa(x)))))
        mask = torch.zeros(1, 1, hc, wc, dtype=x.dtype)
        mask[:, :, 1:hc - 1, 1:wc - 1] = 1  # border cells score 0
        score = score * mask

        shift = torch.tanh(self.convPb(self.drop(self.act(self.convPa(x)))))
        step = (self.cell - 1) / 2.0
        ys, xs = torch.meshgrid(torch.arange(hc, dtype=x.dtype), torch.arange(wc, dtype=x.dtype), indexing="ij")
        centre = torch.stack([xs, ys]).unsqueeze(0) * self.cell + step  # (x, y) of each cell centre
        coord_un = centre + shift * (self.cross_ratio * step)
        coord = torch.cat([coord_un[:, 0:1].clamp(0, W - 1), coord_un[:, 1:2].clamp(0, H - 1)], 1)

        feat = self.drop(self.act(self.convFa(x)))
        if self.do_upsample:
            feat = torch.cat([F.pixel_shuffle(self.convFb(feat), 2), skip], 1)
        feat = self.convFbb(self.act(self.convFaa(feat)))
        if not self.training:
            gx = coord[:, 0] / ((W - 1) / 2.0) - 1.0
            gy = coord[:, 1] / ((H - 1) / 2.0) - 1.0
            grid = torch.stack([gx, gy], -1)  # [N, hc, wc, 2]
            feat = F.grid_sample(feat, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
            feat = feat / feat.norm(p=2, dim=1, keepdim=True)
        return score, coord, feat


# ---- IO-Net --------------------------------------------------------------------------------------
class InlierNet(nn.Module):
    """KP2D's IO-Net (SPEC 5.2): p_in conv+BN(momentum 0.9), residual blocks of
    [conv, instance_norm, BN(0.1), ReLU] x 2, p_out conv; input [N, 5, P, 1] -> logits [N, 1, P, 1]."""

    def __init__(self, blocks=4, width=128, in_channels=5, in_bn_momentum=0.9, bn_momentum=0.1):
        super().__init__()
        self.blocks = blocks
        self.p_in = nn.Sequential(nn.Conv2d(in_channels, width, 1, bias=False),
                                  nn.BatchNorm2d(width, momentum=in_bn_momentum))
        for i in range(blocks):
            self.add_module(f"{i}s0", nn.Conv2d(width, width, 1))
            self.add_module(f"{i}s1", nn.BatchNorm2d(width, momentum=bn_momentum))
            self.add_module(f"{i}s2", nn.Conv2d(width, width, 1))
            self.add_module(f"{i}s3", nn.BatchNorm2d(width, momentum=bn_momentum))
        self.p_out = nn.Conv2d(width, 1, 1)

    def forward(self, x):
        x = F.relu(self.p_in(x))
        for i in range(self.blocks):
            m = [getattr(self, f"{i}s{k}") for k in range(4)]
            y = F.relu(m[1](F.instance_norm(m[0](x))))
            y = F.relu(m[3](F.instance_norm(m[2](y))))
            x = x + y
        return self.p_out(x)


# ---- the named kpt configurations ----------------------------------------------------------------
def build(model, variant=None):
    """The torch twin of a kpt command-line model (tools/kpt/models.cpp: `kpt init --model M
    --variant V`): superpoint (magicleap, bn), magicpoint (default, bn), keypointnet (v4, v0, v1, v2,
    v3, v4_gray), ionet. Returns (module, family) with family in {'superpoint', 'keypointnet', 'ionet'}."""
    table = {
        "superpoint": {"magicleap": lambda: SuperPointNet(), "bn": lambda: SuperPointBN()},
        "magicpoint": {"default": lambda: SuperPointNet(descriptor_head=False),
                       "bn": lambda: SuperPointBN(descriptor_head=False)},
        "keypointnet": {"v4": lambda: KeypointNet(), "v0": lambda: KeypointNet(do_upsample=False, do_cross=False),
                        "v1": lambda: KeypointNet(do_upsample=False), "v2": lambda: KeypointNet(),
                        "v3": lambda: KeypointNet(), "v4_gray": lambda: KeypointNet(use_color=False)},
        "ionet": {"default": lambda: InlierNet()},
    }
    if model not in table:
        raise ValueError(f"unknown model '{model}' (one of {', '.join(table)})")
    variants = table[model]
    v = variant or next(iter(variants))
    if v not in variants:
        raise ValueError(f"unknown {model} variant '{v}' (one of {', '.join(variants)})")
    family = "superpoint" if model == "magicpoint" else model
    return variants[v](), family
