#!/usr/bin/env python3
"""Writes Fieldbook's app icons (PNG, ICO, ICNS) with only the standard library.

A navy rounded square with a white notebook page, ruled lines and a red bookmark.
Run from anywhere: `python3 src-tauri/icons/generate.py`. Output is deterministic.
"""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
NAVY, WHITE, RED, RULE = (11, 37, 69, 255), (255, 255, 255, 255), (196, 16, 38, 255), (150, 165, 185, 255)
CLEAR = (0, 0, 0, 0)


def pixel(x, y):
    """Colour at (x, y) in a 1x1 unit square, 4x4 supersampled by the caller."""
    r = 0.18  # corner radius
    cx, cy = min(max(x, r), 1 - r), min(max(y, r), 1 - r)
    if (x - cx) ** 2 + (y - cy) ** 2 > r * r:
        return CLEAR
    if 0.58 <= x <= 0.70 and 0.14 <= y <= 0.52 and not (y > 0.44 and abs(x - 0.64) < (y - 0.44)):
        return RED  # bookmark with a notched tail
    if 0.24 <= x <= 0.76 and 0.18 <= y <= 0.82:
        for line in (0.58, 0.66, 0.74):
            if line <= y <= line + 0.025 and 0.30 <= x <= 0.70:
                return RULE
        return WHITE
    return NAVY


def render(size):
    rows = []
    n = 4
    for py in range(size):
        row = bytearray([0])  # PNG filter: none
        for px in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(n):
                for sx in range(n):
                    c = pixel((px + (sx + 0.5) / n) / size, (py + (sy + 0.5) / n) / size)
                    a = c[3]
                    acc[0] += c[0] * a
                    acc[1] += c[1] * a
                    acc[2] += c[2] * a
                    acc[3] += a
            a = acc[3]
            row += bytes([acc[0] // a, acc[1] // a, acc[2] // a, a // (n * n)] if a else [0, 0, 0, 0])
        rows.append(bytes(row))
    return png(size, b"".join(rows))


def png(size, raw):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def ico(images):
    """ICO with embedded PNGs (Vista+), as Windows resources expect."""
    head = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    entries, blobs = b"", b""
    for size, data in images:
        entries += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
        blobs += data
    return head + entries + blobs


def icns(images):
    body = b"".join(kind + struct.pack(">I", 8 + len(data)) + data for kind, data in images)
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main():
    p32, p128, p256 = render(32), render(128), render(256)
    files = {
        "32x32.png": p32,
        "128x128.png": p128,
        "128x128@2x.png": p256,
        "icon.ico": ico([(32, p32), (256, p256)]),
        "icon.icns": icns([(b"ic07", p128), (b"ic08", p256)]),
    }
    for name, data in files.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
