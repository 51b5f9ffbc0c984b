#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora (python3 stdlib only, deterministic): small valid IDX files
raw and gzip-compressed, small valid .npz archives (stored and deflated, every supported dtype,
.npy format versions 1 and 2, a zip64-style entry), and regularizer spec strings, valid and
invalid. Run from anywhere: python3 tests/fuzz/corpus/make_seeds.py"""
import gzip
import io
import os
import struct
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    os.makedirs(os.path.join(HERE, target), exist_ok=True)
    with open(os.path.join(HERE, target, name), "wb") as f:
        f.write(data)


# ---- IDX: magic 00 00 08 rank, big-endian u32 dims, unsigned bytes -----------------------
def idx(dims, fill=lambda i: i % 256):
    n = 1
    for d in dims:
        n *= d
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(fill(i) for i in range(n))


idx_seeds = {
    "labels_rank1": idx([10], lambda i: i % 10),
    "images_rank3": idx([2, 4, 4], lambda i: (i * 37) % 256),
    "rank2": idx([3, 5]),
    "rank4": idx([1, 2, 2, 3]),
    "one_byte": idx([1]),
}
for name, data in idx_seeds.items():
    put("idx", name + ".idx", data)
    # mtime=0: the same bytes on every run
    put("idx", name + ".idx.gz", gzip.compress(data, compresslevel=9, mtime=0))


# ---- npz: a zip of .npy arrays -----------------------------------------------------------
def npy(dtype, shape, body, version=1):
    shape_txt = "(" + "".join(f"{d}, " for d in shape)
    shape_txt = (shape_txt[:-2] + ("," if len(shape) == 1 else "")) if shape else shape_txt
    shape_txt += ")"
    d = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (dtype, shape_txt)
    prefix = 10 if version == 1 else 12
    total = (prefix + len(d) + 1 + 63) // 64 * 64
    d = d + " " * (total - prefix - len(d) - 1) + "\n"
    head = b"\x93NUMPY" + bytes([version, 0])
    head += struct.pack("<H", len(d)) if version == 1 else struct.pack("<I", len(d))
    return head + d.encode("latin1") + body


def npz(arrays, method, force_zip64=False):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as z:
        for name, data in arrays.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = method
            with z.open(info, "w", force_zip64=force_zip64) as f:
                f.write(data)
    return buf.getvalue()


arrays = {
    "u1": npy("|u1", [2, 3], bytes(range(6))),
    "i4": npy("<i4", [3], struct.pack("<3i", -1, 0, 7)),
    "i8": npy("<i8", [], struct.pack("<q", 42)),
    "f4": npy("<f4", [2, 2], struct.pack("<4f", 0.5, -1.0, 3.25, 1e-3)),
    "f8": npy("<f8", [1, 2], struct.pack("<2d", 3.141592653589793, -0.0)),
}
put("npz", "stored_all_dtypes.npz", npz(arrays, zipfile.ZIP_STORED))
put("npz", "deflated_all_dtypes.npz", npz(arrays, zipfile.ZIP_DEFLATED))
put("npz", "stored_one.npz", npz({"w": arrays["f4"]}, zipfile.ZIP_STORED))
put("npz", "empty_array.npz", npz({"e": npy("<f8", [0, 3], b"")}, zipfile.ZIP_STORED))
put("npz", "npy_version2.npz", npz({"v2": npy("<f4", [2], struct.pack("<2f", 1, 2), version=2)}, zipfile.ZIP_STORED))
put("npz", "zip64_local_header.npz", npz({"z": arrays["i4"]}, zipfile.ZIP_DEFLATED, force_zip64=True))


def zip64_by_hand(name, data):
    """A stored entry whose central record keeps sizes and offset in a zip64 extra field
    (0xffffffff in the 32-bit fields), with a zip64 end record and locator."""
    import zlib
    crc = zlib.crc32(data)
    fname = name.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0x21, crc, len(data), len(data), len(fname), 0)
    body = local + fname + data
    extra = struct.pack("<HHQQQ", 0x0001, 24, len(data), len(data), 0)
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0x21, crc,
                          0xFFFFFFFF, 0xFFFFFFFF, len(fname), len(extra), 0, 0, 0, 0, 0xFFFFFFFF)
    central += fname + extra
    cd_off, cd_size = len(body), len(central)
    z64_off = cd_off + cd_size
    z64 = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, 1, 1, cd_size, cd_off)
    locator = struct.pack("<IIQI", 0x07064B50, 0, z64_off, 1)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return body + central + z64 + locator + end


put("npz", "zip64_by_hand.npz", zip64_by_hand("z.npy", arrays["i4"]))
put("npz", "empty_archive.npz", npz({}, zipfile.ZIP_STORED))

# ---- spec strings ------------------------------------------------------------------------
specs = [
    "none", "l1(lambd=1e-4)", "l2(lambd=0.01)", "l1_l2(l1=1e-5, l2=1e-4)",
    "  l1 ( lambd = .5 )  ", "l2(lambd=0)", "l1_l2(l2=1,l1=2)", "none()",
    "l1(lambd=1e308)", "l1(lambd=-0)", "l1(lambd=nan)", "l2(lambd=inf)", "l1(lambd=1e999)",
    "l1(lambd=1)x", "l1(lambd=1, lambd=2)", "l1_l2(l1=1)", "l3(lambd=1)", "l1(", "",
    "l1(lambd=)", "l1(mode=prox)", "l1_l2(l1=0x1p-3, l2=1E+2)",
    "l1(lambd=1e-4, mode=prox, start=10)", "l2(start=3, lambd=1)",
    "l1_l2(l1=1, l2=2, mode=subgradient, start=1)", "l1(lambd=1, start=0)", "l2(lambd=1, mode=prox)",
    "l1(lambd=1, start=99999999999999999999)", "none(start=2)",
]
for i, s in enumerate(specs):
    put("spec", f"spec_{i:02d}.txt", s.encode())
