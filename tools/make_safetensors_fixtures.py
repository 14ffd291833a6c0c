#!/usr/bin/python3
"""Writes the safetensors fixtures that tests/unit/safetensors_test.cpp reads.

  tools/make_safetensors_fixtures.py [--out DIR]     (default: tests/data/safetensors)

Files (all written by tools/pth_to_safetensors.py's writer, so C++ reads what python wrote):
  py_all_dtypes.safetensors  one tensor per dtype (F16 BF16 F32 F64 I64 I32 U8), a scalar, an empty
                             tensor, metadata; values exactly representable, hard-coded in the test
  rounding.safetensors       'src' (F32: ties, subnormals, overflow, inf, nan, -0, random) and its
                             conversions by numpy ('f16') and torch ('bf16'), plus those read back as
                             F32 ('f16_as_f32', 'bf16_as_f32'): kpt's own F16/BF16 code must agree bit for bit
  tiny_net.safetensors       a torch module's state_dict (conv, batch norm with I64
                             num_batches_tracked, linear) converted from a .pth by the converter;
                             every value = linspace(-1, 1, numel) of its tensor
It also checks cpp_written.safetensors (written by the C++ test; regenerate it with
KPT_REGENERATE_FIXTURES=1 build/bin/kpt_tests_unit -t safetensors) with the python reader.
"""
import argparse
import os
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pth_to_safetensors as st  # noqa: E402


def all_dtypes():
    t = {
        "f32": torch.tensor([(i - 12) * 0.375 for i in range(24)], dtype=torch.float32).reshape(2, 3, 4),
        "f64": torch.tensor([1.0 / 3.0, -2.5, 1e300, -0.0, 5e-324], dtype=torch.float64),
        "f16": torch.tensor([0.5, -1.25, 65504.0, 2.0 ** -24], dtype=torch.float16).reshape(2, 2),
        "bf16": torch.tensor([1.0, -3.140625, 2.0 ** 100], dtype=torch.bfloat16),
        "i64": torch.tensor([-(1 << 62), -1, 0, 123456789012], dtype=torch.int64),
        "i32": torch.tensor([-2147483648, 0, 2147483647], dtype=torch.int32),
        "u8": torch.tensor([0, 1, 128, 255], dtype=torch.uint8),
        "scalar": torch.tensor(2.5, dtype=torch.float32),
        "empty": torch.zeros(0, 3, dtype=torch.float32),
    }
    return t, {"format": "pt", "creator": "make_safetensors_fixtures.py"}


def rounding():
    rng = np.random.default_rng(7)
    vals = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 65504.0, 65519.0, 65520.0, 1e5, -1e5,
            2.0 ** -24, 2.0 ** -25, 2.0 ** -25 * 1.0000001, 2.0 ** -26, 2.0 ** -14, 2.0 ** -14 * (1 - 2 ** -11),
            3.4e38, -3.4e38, 1e-40, 2.0 ** -133, 2.0 ** -134, 2.0 ** -126]
    f16 = np.arange(0, 65536, 97, dtype=np.uint16).view(np.float16).astype(np.float64)
    f16 = f16[np.isfinite(f16)]
    nxt = (np.arange(0, 65536, 97, dtype=np.uint16) + 1).view(np.float16).astype(np.float64)[: len(f16)]
    ok = np.isfinite(nxt) & (np.sign(nxt) == np.sign(f16))
    with np.errstate(invalid="ignore"):
        vals += list(((f16 + nxt) / 2)[ok][:100])  # exact f16 ties
    b = rng.integers(0, 2 ** 32, 100, dtype=np.uint64).astype(np.uint32)
    b = (b & 0xFFFF0000) | 0x8000  # exact bf16 ties
    vals += list(b.view(np.float32).astype(np.float64))
    vals += list(rng.normal(0, 100, 100)) + list(rng.normal(0, 1e-5, 50))
    src = torch.tensor(np.array(vals, dtype=np.float32))
    with np.errstate(over="ignore"):
        f16t = torch.from_numpy(src.numpy().astype(np.float16))
    bf16t = src.to(torch.bfloat16)
    return {"src": src, "f16": f16t, "bf16": bf16t, "f16_as_f32": f16t.float(), "bf16_as_f32": bf16t.float()}


def tiny_net_pth(path):
    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = torch.nn.Sequential()
            self.stem.add_module("conv", torch.nn.Conv2d(2, 3, 3))
            self.stem.add_module("bn", torch.nn.BatchNorm2d(3))
            self.head = torch.nn.Linear(3, 2)

    net = Tiny()
    with torch.no_grad():
        for v in net.state_dict().values():
            if v.is_floating_point():
                v.copy_(torch.linspace(-1, 1, v.numel()).reshape(v.shape))
            else:
                v.fill_(5)  # num_batches_tracked
    torch.save({"state_dict": net.state_dict(), "epoch": 3}, path)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(here, "..", "tests", "data", "safetensors"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    t, meta = all_dtypes()
    st.write_safetensors(os.path.join(a.out, "py_all_dtypes.safetensors"), t, meta)
    st.write_safetensors(os.path.join(a.out, "rounding.safetensors"), rounding(), {"creator": "make_safetensors_fixtures.py"})
    with tempfile.TemporaryDirectory() as d:
        pth = os.path.join(d, "tiny_net.pth")
        tiny_net_pth(pth)
        st.convert(pth, os.path.join(a.out, "tiny_net.safetensors"))
    for name in ("py_all_dtypes", "rounding", "tiny_net"):
        st.verify(os.path.join(a.out, name + ".safetensors"))
    cpp = os.path.join(a.out, "cpp_written.safetensors")
    if os.path.exists(cpp):
        st.verify_kpt_fixture(cpp)
    else:
        print(f"note: {cpp} does not exist yet; run the C++ test with KPT_REGENERATE_FIXTURES=1")


if __name__ == "__main__":
    main()
