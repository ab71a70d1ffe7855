#!/usr/bin/python3
"""Writes tests/golden/augment/{hue_shift,clahe,lab}.safetensors: OpenCV's own results for
albumentations ops on uint8 images. clahe: cv2.createCLAHE(clip, (8, 8)).apply on seeded
synthetic gray images of several sizes ("input_WxH" U8 [H, W], "output_WxH" U8 [C, H, W],
"clips" F64 [C]). hue_shift: the hue rotation of ColorJitter (adjust_hue_torchvision):

    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
    hsv[..., 0] = cv2.LUT(hsv[..., 0], np.mod(np.arange(256) + 180 * factor, 180).astype(np.uint8))
    out = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)

Run with Debian's python3-opencv and python3-numpy (`apt-get install python3-opencv`); the
C++ test (tests/data/augment_test.cc) needs only the file. Tensors: "input" U8 [N, 3]
(every gray level, the six primaries and secondaries at several levels, then seeded random
pixels, as an image 32 pixels wide), "factors" F64 [F], and "output" U8 [F, N, 3].

lab: OpenCV's 8-bit LAB and albumentations' CLAHE on RGB images, which equalizes its L:

    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB)
    lab[:, :, 0] = cv2.createCLAHE(clip, (8, 8)).apply(lab[:, :, 0])
    out = cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)

Tensors: "rgb" U8 [N, 3] (the hue_shift pixels, without the padding to whole rows) and
"rgb_to_lab" U8 [N, 3]; "lab" U8 [M, 3] (every L with a = b = 128, the eight corners,
seeded random triples) and "lab_to_rgb" U8 [M, 3]; "clahe_clips" F64 [C];
"clahe_input_WxH" U8 [H, W, 3] (seeded synthetic colour images) and "clahe_output_WxH" U8
[C, H, W, 3]. OpenCV's vector and scalar code give the same LAB for all 2^24 inputs of
each direction, so unlike HSV the row width does not matter.
"""
import json
import os
import struct

import cv2
import numpy as np

# -29/180: the table rounds 29 + 180 x (-29/180) = -3.6e-15 up to 180, a hue OpenCV wraps.
FACTORS = [-0.5, -0.2, -0.13, -29 / 180, -0.01, 0.01, 0.07, 0.2, 0.5]


def pixels():
    rows = [[g, g, g] for g in range(256)]
    for level in (1, 64, 128, 200, 255):
        for rgb in ([1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 1], [1, 0, 1]):
            rows.append([level * c for c in rgb])
    rng = np.random.default_rng(20261124)
    rows += rng.integers(0, 256, size=(4096, 3)).tolist()
    return np.array(rows, dtype=np.uint8)


def hue_shift(img, factor):
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
    lut = np.mod(np.arange(0, 256, dtype=np.int16) + 180 * factor, 180).astype(np.uint8)
    hsv[..., 0] = cv2.LUT(hsv[..., 0], lut)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


CLAHE_SIZES = [(96, 96), (100, 75), (33, 17), (7, 5), (1, 1)]  # (width, height)
CLAHE_CLIPS = [1.0, 2.5, 4.0]


def clahe_planes():
    """Seeded synthetic gray images: a gradient, blobs and noise, so that every tile has a
    different histogram. Yields (width, height, plane)."""
    rng = np.random.default_rng(7)
    for w, h in CLAHE_SIZES:
        yy, xx = np.mgrid[0:h, 0:w]
        img = 40 + 120 * xx / max(w - 1, 1) + 60 * np.sin(yy / 5.0) + rng.normal(0, 12, size=(h, w))
        for _ in range(3):
            cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(2, max(w, h) / 3 + 2)
            img[(xx - cx) ** 2 + (yy - cy) ** 2 < r * r] += rng.uniform(-80, 80)
        yield w, h, np.clip(np.rint(img), 0, 255).astype(np.uint8)


def lab_triples():
    """LAB bytes for LAB -> RGB: every L with a = b = 128 (the grays), the corners of the
    byte cube, then seeded random triples."""
    rows = [[l, 128, 128] for l in range(256)]
    rows += [[l, a, b] for l in (0, 255) for a in (0, 255) for b in (0, 255)]
    rng = np.random.default_rng(20261125)
    rows += rng.integers(0, 256, size=(4096, 3)).tolist()
    return np.array(rows, dtype=np.uint8)


CLAHE_COLOUR_SIZES = [(96, 96), (33, 17), (7, 5)]  # (width, height)
# Small tiles clip at max(1, int(clip x tile pixels / 256)) counts: 1 to 4 all give 1 or 2
# counts here, so 40 is added for a limit that clips little (22 counts on 96x96).
CLAHE_COLOUR_CLIPS = [1.0, 4.0, 40.0]


def clahe_colour_images():
    """Seeded synthetic colour images: each channel its own gradient and waves, coloured
    blobs and noise. Yields (width, height, image [H, W, 3])."""
    rng = np.random.default_rng(11)
    for w, h in CLAHE_COLOUR_SIZES:
        yy, xx = np.mgrid[0:h, 0:w]
        u, v = xx / max(w - 1, 1), yy / max(h - 1, 1)
        img = np.stack([30 + 150 * u, 60 + 120 * v, 200 - 140 * u * v], axis=-1)
        img += 40 * np.sin(np.stack([yy / 4.0, xx / 6.0, (xx + yy) / 5.0], axis=-1))
        img += rng.normal(0, 10, size=(h, w, 3))
        for _ in range(3):
            cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(2, max(w, h) / 3 + 2)
            img[(xx - cx) ** 2 + (yy - cy) ** 2 < r * r] += rng.uniform(-80, 80, size=3)
        yield w, h, np.clip(np.rint(img), 0, 255).astype(np.uint8)


def clahe_rgb(img, clip):
    """albumentations' CLAHE on an RGB uint8 image."""
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB)
    lab[:, :, 0] = cv2.createCLAHE(clipLimit=clip, tileGridSize=(8, 8)).apply(lab[:, :, 0])
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, (dtype, array) in tensors.items():
        data = np.ascontiguousarray(array).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    os.replace(tmp, path)


def main():
    px = pixels()
    px = np.concatenate([px, px[: -len(px) % 32]])  # whole rows of 32 pixels
    # Rows of 32 pixels: OpenCV's vector code converts whole blocks of 16 (SSE) or 32
    # (AVX2) pixels and a scalar tail (which rounds instead of truncating) the rest of a row.
    img = px.reshape(-1, 32, 3)
    out = np.stack([hue_shift(img.copy(), f).reshape(-1, 3) for f in FACTORS])
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    path = os.path.join(root, "tests", "golden", "augment", "hue_shift.safetensors")
    write_safetensors(path, {"input": ("U8", px), "factors": ("F64", np.array(FACTORS, dtype=np.float64)), "output": ("U8", out)},
                      {"producer": "scripts/augment_goldens.py", "opencv": cv2.__version__, "numpy": np.__version__})
    print(f"wrote {path}: {px.shape[0]} pixels x {len(FACTORS)} factors (OpenCV {cv2.__version__})")

    # CLAHE on one 8-bit plane, 8x8 tiles, as albumentations calls it on the L channel.
    tensors = {"clips": ("F64", np.array(CLAHE_CLIPS, dtype=np.float64))}
    for w, h, plane in clahe_planes():
        tensors[f"input_{w}x{h}"] = ("U8", plane)
        tensors[f"output_{w}x{h}"] = ("U8", np.stack([cv2.createCLAHE(clipLimit=c, tileGridSize=(8, 8)).apply(plane) for c in CLAHE_CLIPS]))
    path = os.path.join(root, "tests", "golden", "augment", "clahe.safetensors")
    write_safetensors(path, tensors, {"producer": "scripts/augment_goldens.py", "opencv": cv2.__version__})
    print(f"wrote {path}: {len(CLAHE_SIZES)} images x {len(CLAHE_CLIPS)} clip limits")

    # 8-bit LAB both ways, and CLAHE on L of colour images.
    rgb = pixels().reshape(1, -1, 3)
    lab = lab_triples().reshape(1, -1, 3)
    tensors = {"rgb": ("U8", rgb[0]), "rgb_to_lab": ("U8", cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[0]),
               "lab": ("U8", lab[0]), "lab_to_rgb": ("U8", cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)[0]),
               "clahe_clips": ("F64", np.array(CLAHE_COLOUR_CLIPS, dtype=np.float64))}
    for w, h, img in clahe_colour_images():
        tensors[f"clahe_input_{w}x{h}"] = ("U8", img)
        tensors[f"clahe_output_{w}x{h}"] = ("U8", np.stack([clahe_rgb(img, c) for c in CLAHE_COLOUR_CLIPS]))
    path = os.path.join(root, "tests", "golden", "augment", "lab.safetensors")
    write_safetensors(path, tensors, {"producer": "scripts/augment_goldens.py", "opencv": cv2.__version__})
    print(f"wrote {path}: {rgb.shape[1]} RGB and {lab.shape[1]} LAB pixels, {len(CLAHE_COLOUR_SIZES)} colour images x {len(CLAHE_COLOUR_CLIPS)} clip limits")


if __name__ == "__main__":
    main()
