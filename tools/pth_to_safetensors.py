#!/usr/bin/python3
"""Converts PyTorch weights (.pth) to safetensors and back, without the `safetensors` package.

  tools/pth_to_safetensors.py IN.pth OUT.safetensors [--dtype F32] [--strip-prefix module.] [--key state_dict]
  tools/pth_to_safetensors.py --reverse IN.safetensors OUT.pth
  tools/pth_to_safetensors.py --verify FILE.safetensors      # strict format check + listing
  tools/pth_to_safetensors.py --verify-kpt-fixture FILE      # checks tests/data/safetensors/cpp_written.safetensors
  tools/pth_to_safetensors.py --self-test                     # round trips in a temporary folder

IN.pth is a state_dict (name -> tensor) or a checkpoint dict holding one under 'state_dict' (KP2D)
or another key given with --key; scalar/string entries beside it become metadata ("pth.<key>").
The format (docs/formats.md, "safetensors"): 8-byte little-endian header length N, N bytes of JSON
{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}, then the data
buffer, which the tensors tile exactly. Importable: write_safetensors / read_safetensors.
Needs torch and numpy: use /usr/bin/python3 on the build machine.
"""
import argparse
import json
import os
import struct
import sys
import tempfile

import numpy as np
import torch

# safetensors dtype <-> torch dtype; BF16 has no numpy type and travels as int16 bits.
DTYPES = {
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "F32": torch.float32,
    "F64": torch.float64,
    "I64": torch.int64,
    "I32": torch.int32,
    "U8": torch.uint8,
}
NAME_OF = {v: k for k, v in DTYPES.items()}
SIZE = {"F16": 2, "BF16": 2, "F32": 4, "F64": 8, "I64": 8, "I32": 4, "U8": 1}
FLOATING = {"F16", "BF16", "F32", "F64"}
MAX_HEADER = 100 << 20


class FormatError(Exception):
    pass


def _tensor_bytes(t):
    t = t.detach().cpu().contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def _bytes_tensor(buf, dt, shape):
    torch_dt = DTYPES[dt]
    if dt == "BF16":
        a = np.frombuffer(buf, dtype=np.int16).copy()
        return torch.from_numpy(a).view(torch.bfloat16).reshape(shape)
    np_dt = torch.empty(0, dtype=torch_dt).numpy().dtype
    a = np.frombuffer(buf, dtype=np_dt.newbyteorder("<")).copy()
    return torch.from_numpy(a).reshape(shape)


def encode_safetensors(tensors, metadata=None):
    """The bytes of a safetensors file holding `tensors` (name -> torch.Tensor), laid out in name order."""
    header = {}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name]
        if not isinstance(t, torch.Tensor):
            raise FormatError(f"'{name}' is a {type(t).__name__}, not a tensor")
        if t.dtype not in NAME_OF:
            raise FormatError(f"tensor '{name}' has dtype {t.dtype}, which kpt does not read "
                              f"(supported: {', '.join(DTYPES)}); convert it first, e.g. t.float()")
        if name == "__metadata__":
            raise FormatError("'__metadata__' is reserved; rename the tensor")
        b = _tensor_bytes(t)
        header[name] = {"dtype": NAME_OF[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        chunks.append(b)
        offset += len(b)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    # Compact, keys sorted, UTF-8 unescaped: the same bytes as kpt's C++ writer (nlohmann::json::dump).
    text = json.dumps(header, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)  # the buffer starts 8-byte aligned
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def write_safetensors(path, tensors, metadata=None):
    """Writes atomically: a temporary file in the same folder, renamed over `path`."""
    data = encode_safetensors(tensors, metadata)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".tmp-", dir=folder)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files; give the usual permissions
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _no_duplicates(pairs):
    seen = {}
    for k, v in pairs:
        if k in seen:
            raise FormatError(f"duplicate key '{k}' in the header")
        seen[k] = v
    return seen


def read_safetensors(path):
    """(tensors, metadata) of a safetensors file, with the same checks as kpt's C++ reader."""
    with open(path, "rb") as f:
        data = f.read()
    where = f"'{path}'"
    if len(data) < 8:
        raise FormatError(f"{where} is {len(data)} bytes long, too short for the 8-byte header length")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise FormatError(f"{where} announces a JSON header of {n} bytes but only {len(data) - 8} follow")
    if n > MAX_HEADER:
        raise FormatError(f"{where} announces a header of {n} bytes, above the 100 MB limit")
    text = data[8:8 + n]
    if not text.startswith(b"{"):
        raise FormatError(f"{where} has a header that does not start with '{{'")
    try:
        header = json.loads(text.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (ValueError, UnicodeDecodeError) as e:
        raise FormatError(f"{where} has a header that is not well-formed JSON ({e})")
    buf = data[8 + n:]
    metadata = header.pop("__metadata__", {}) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise FormatError(f"{where} has a '__metadata__' that is not a map of strings")
    spans = []
    tensors = {}
    for name, e in header.items():
        if not isinstance(e, dict) or set(e) != {"dtype", "shape", "data_offsets"}:
            raise FormatError(f"{where}: entry of tensor '{name}' must have exactly dtype, shape, data_offsets")
        dt, shape, (b, end) = e["dtype"], e["shape"], e["data_offsets"]
        if dt not in DTYPES:
            raise FormatError(f"{where}: tensor '{name}' has unsupported dtype '{dt}'")
        if not all(isinstance(d, int) and d >= 0 for d in shape):
            raise FormatError(f"{where}: tensor '{name}' has a bad shape {shape}")
        if not (isinstance(b, int) and isinstance(end, int) and 0 <= b <= end <= len(buf)):
            raise FormatError(f"{where}: tensor '{name}' has data_offsets [{b}, {end}] outside the buffer of {len(buf)} bytes")
        if int(np.prod(shape, dtype=np.int64)) * SIZE[dt] != end - b:
            raise FormatError(f"{where}: tensor '{name}' of shape {shape} {dt} does not span [{b}, {end}]")
        spans.append((b, end, name))
        tensors[name] = _bytes_tensor(buf[b:end], dt, shape)
    expected = 0
    for b, end, name in sorted(spans):
        if b != expected:
            raise FormatError(f"{where}: tensor '{name}' starts at {b}, expected {expected} (overlap or hole)")
        expected = end
    if expected != len(buf):
        raise FormatError(f"{where}: {len(buf) - expected} bytes at the end belong to no tensor")
    return tensors, metadata


def load_pth(path, key=None):
    """(state_dict, metadata) of a .pth state_dict or checkpoint."""
    obj = torch.load(path, map_location="cpu")
    metadata = {}
    if hasattr(obj, "state_dict") and not isinstance(obj, dict):
        obj = obj.state_dict()  # a whole pickled module
    if key is None and isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        key = "state_dict"
    if key is not None:
        if not isinstance(obj, dict) or key not in obj:
            raise SystemExit(f"error: '{path}' has no entry '{key}' (entries: {list(obj) if isinstance(obj, dict) else type(obj)})")
        for k, v in obj.items():
            if k != key and isinstance(v, (str, int, float, bool)):
                metadata[f"pth.{k}"] = str(v)
        obj = obj[key]
    if not isinstance(obj, dict):
        raise SystemExit(f"error: '{path}' holds a {type(obj).__name__}, not a state_dict; pass --key NAME of its state_dict")
    bad = [k for k, v in obj.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise SystemExit(f"error: '{path}': entries {bad} are not tensors; pass --key NAME of the state_dict inside")
    return dict(obj), metadata


def convert(src, dst, dtype=None, strip_prefix=None, key=None):
    sd, metadata = load_pth(src, key)
    out = {}
    for k, v in sd.items():
        name = k[len(strip_prefix):] if strip_prefix and k.startswith(strip_prefix) else k
        if name in out:
            raise SystemExit(f"error: two keys map to '{name}' after stripping '{strip_prefix}'")
        if dtype and v.is_floating_point():
            v = v.to(DTYPES[dtype])
        out[name] = v
    metadata["format"] = "pt"
    metadata["source"] = os.path.basename(src)
    write_safetensors(dst, out, metadata)
    print(f"wrote {dst}: {len(out)} tensors, {sum(v.numel() for v in out.values())} values")


def reverse(src, dst):
    tensors, metadata = read_safetensors(src)
    from collections import OrderedDict
    torch.save(OrderedDict(sorted(tensors.items())), dst)
    print(f"wrote {dst}: {len(tensors)} tensors (metadata dropped: {sorted(metadata)})")


def verify(path):
    tensors, metadata = read_safetensors(path)
    for name in sorted(tensors):
        t = tensors[name]
        print(f"  {name}: {NAME_OF[t.dtype]} {list(t.shape)}")
    print(f"{path}: OK, {len(tensors)} tensors, metadata {metadata}")
    return tensors, metadata


# ---- the file kpt's C++ test writes (tests/data/safetensors/cpp_written.safetensors) ----------
def kpt_fixture_expected():
    """The tensors the C++ test kpt::io writes; keep in sync with tests/unit/safetensors_test.cpp."""
    a = torch.tensor([i * 0.5 - 1.0 for i in range(6)], dtype=torch.float32).reshape(2, 3)
    b = torch.tensor([1.0 / (i + 1) for i in range(4)], dtype=torch.float64)
    src = torch.tensor([i * 0.1 - 0.3 for i in range(6)], dtype=torch.float32).reshape(3, 2)
    c = torch.from_numpy(src.numpy().astype(np.float16))
    d = src.to(torch.bfloat16)
    e = torch.tensor([-1, 0, 1 << 40], dtype=torch.int64)
    s = torch.tensor(3.25, dtype=torch.float32)
    z = torch.zeros(0, 3, dtype=torch.float32)
    tensors = {"a": a, "b": b, "c.half": c, "d.bf16": d, "e": e, "s": s, "z": z}
    metadata = {"writer": "kpt", "note": "caf\u00e9 \"quoted\""}
    return tensors, metadata


def verify_kpt_fixture(path):
    tensors, metadata = read_safetensors(path)
    want, want_meta = kpt_fixture_expected()
    assert sorted(tensors) == sorted(want), (sorted(tensors), sorted(want))
    for k, v in want.items():
        got = tensors[k]
        assert got.dtype == v.dtype and got.shape == v.shape, (k, got.dtype, v.dtype, got.shape, v.shape)
        assert _tensor_bytes(got) == _tensor_bytes(v), (k, got, v)
    assert metadata == want_meta, (metadata, want_meta)
    # A C++-written file is byte-identical to what this writer produces from the same tensors.
    with open(path, "rb") as f:
        assert f.read() == encode_safetensors(want, want_meta), "C++ and python writers differ in bytes"
    print(f"{path}: written by kpt, read by python: OK")


def self_test():
    with tempfile.TemporaryDirectory() as d:
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Conv1d(4, 2, 1))
        sd = net.state_dict()
        pth = os.path.join(d, "w.pth")
        torch.save({"state_dict": sd, "config": "v4", "epoch": 7}, pth)
        st = os.path.join(d, "w.safetensors")
        convert(pth, st)
        back, meta = read_safetensors(st)
        assert meta["pth.config"] == "v4" and meta["pth.epoch"] == "7" and meta["format"] == "pt"
        assert sorted(back) == sorted(sd)
        for k in sd:
            assert torch.equal(back[k], sd[k]), k
        assert back["1.num_batches_tracked"].dtype == torch.int64
        pth2 = os.path.join(d, "back.pth")
        reverse(st, pth2)
        sd2 = torch.load(pth2)
        net.load_state_dict(sd2)  # loads into the module again
        # every dtype, scalars and empty tensors
        all_t = {n: (torch.randn(3, 5) * 100).to(dt) if dt.is_floating_point else torch.arange(15, dtype=dt).reshape(3, 5)
                 for n, dt in DTYPES.items()}
        all_t["scalar"] = torch.tensor(1.5)
        all_t["empty"] = torch.zeros(0, 4)
        p = os.path.join(d, "all.safetensors")
        write_safetensors(p, all_t, {"k": "v"})
        got, meta = read_safetensors(p)
        assert meta == {"k": "v"}
        for k, v in all_t.items():
            assert got[k].dtype == v.dtype and torch.equal(got[k], v), k
        # corruption is detected
        raw = open(p, "rb").read()
        for bad in (raw[:-1], raw[:5], struct.pack("<Q", 1 << 40) + raw[8:], raw[:8] + b"[" + raw[9:]):
            open(p, "wb").write(bad)
            try:
                read_safetensors(p)
                raise AssertionError("corruption not detected")
            except FormatError:
                pass
    here = os.path.dirname(os.path.abspath(__file__))
    cpp = os.path.join(here, "..", "tests", "data", "safetensors", "cpp_written.safetensors")
    if os.path.exists(cpp):
        verify_kpt_fixture(cpp)
    print("self-test: OK")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", nargs="?")
    ap.add_argument("output", nargs="?")
    ap.add_argument("--reverse", action="store_true", help="safetensors -> .pth (a plain state_dict)")
    ap.add_argument("--dtype", choices=sorted(FLOATING), help="store floating tensors as this dtype")
    ap.add_argument("--strip-prefix", help="remove this prefix from keys (e.g. 'module.')")
    ap.add_argument("--key", help="the checkpoint entry holding the state_dict (default: 'state_dict' if present)")
    ap.add_argument("--verify", metavar="FILE", help="check a safetensors file strictly and list it")
    ap.add_argument("--verify-kpt-fixture", metavar="FILE", help="check the file kpt's C++ test writes")
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args()
    try:
        if a.self_test:
            return self_test()
        if a.verify:
            verify(a.verify)
            return
        if a.verify_kpt_fixture:
            return verify_kpt_fixture(a.verify_kpt_fixture)
        if not a.input or not a.output:
            ap.error("give INPUT and OUTPUT (or --verify FILE / --self-test)")
        if not os.path.exists(a.input):
            ap.error(f"'{a.input}' does not exist")
        if a.reverse:
            reverse(a.input, a.output)
        else:
            convert(a.input, a.output, a.dtype, a.strip_prefix, a.key)
    except FormatError as e:
        sys.exit(f"error: {e}")


if __name__ == "__main__":
    main()
