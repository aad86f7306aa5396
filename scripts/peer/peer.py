"""The Python peer of CNN Lens's folder classification (issue #21): what a user would write instead, with PIL and
onnxruntime. Decodes each JPEG, resizes the shorter side to 256 (bilinear), centre-crops 224, applies the
built-in model's preprocessing (Keras "caffe": BGR minus the ImageNet means), runs batches of 8 with
intra_op_num_threads = the CPUs this process may use, and prints one JSON line: ms per image over the whole
folder (decode and run, session creation excluded), the threads, and each file's top-1 class.
Usage: python peer.py MODEL.onnx IMAGE... (needs onnxruntime, numpy, pillow)."""
import json
import os
import sys
import time

import numpy as np
import onnxruntime as ort
from PIL import Image

MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32).reshape(3, 1, 1)


def prepare(path):
    im = Image.open(path).convert('RGB')
    w, h = im.size
    scale = 256 / min(w, h)
    im = im.resize((max(224, round(w * scale)), max(224, round(h * scale))), Image.BILINEAR)
    w, h = im.size
    left, top = (w - 224) // 2, (h - 224) // 2
    x = np.asarray(im.crop((left, top, left + 224, top + 224)), dtype=np.float32)
    return x[:, :, ::-1].transpose(2, 0, 1) - MEAN_BGR


def main():
    model, images = sys.argv[1], sys.argv[2:]
    threads = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    session = ort.InferenceSession(model, opts, providers=['CPUExecutionProvider'])
    name = session.get_inputs()[0].name
    session.run(None, {name: np.stack([prepare(images[0])] * 8)})  # warm-up
    top = []
    t = time.perf_counter()
    for i in range(0, len(images), 8):
        batch = np.stack([prepare(p) for p in images[i:i + 8]])
        top += [int(k) for k in session.run(None, {name: batch})[0].argmax(axis=1)]
    ms = (time.perf_counter() - t) * 1000 / len(images)
    print(json.dumps({'ms_per_image': ms, 'images': len(images), 'threads': threads, 'top1': top}))


if __name__ == '__main__':
    main()
