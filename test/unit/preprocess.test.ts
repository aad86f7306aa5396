// Preprocessing: the tensor layout and normalisation, and decoding of odd but valid images.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { ImageError, prepareImage, toTensor } from '../../src/inference/preprocess';
import { CAFFE_PREPROCESSING, TORCHVISION_PREPROCESSING } from '../../src/model/descriptor';
import { at } from './helpers/at';
import { pngClaiming } from './helpers/badImages';
import { IMAGES } from './helpers/paths';

const chelsea = readFileSync(path.join(IMAGES, 'chelsea.png'));

test('caffe preprocessing: BGR planes minus the ImageNet means, no scaling', () => {
  const t = toTensor(Uint8Array.from([10, 20, 30, 40, 50, 60]), CAFFE_PREPROCESSING);
  assert.deepEqual(
    Array.from(t, (v) => +v.toFixed(3)),
    [30 - 103.939, 60 - 103.939, 20 - 116.779, 50 - 116.779, 10 - 123.68, 40 - 123.68].map(
      (v) => +v.toFixed(3),
    ),
  );
});

test('torchvision preprocessing: RGB planes, /255, mean/std', () => {
  const t = toTensor(Uint8Array.from([255, 0, 128]), TORCHVISION_PREPROCESSING);
  assert.ok(Math.abs(at(t, 0) - (1 - 0.485) / 0.229) < 1e-5);
  assert.ok(Math.abs(at(t, 1) - (0 - 0.456) / 0.224) < 1e-5);
  assert.ok(Math.abs(at(t, 2) - (128 / 255 - 0.406) / 0.225) < 1e-5);
});

test('resize shorter side to 256 then center crop 224 equals doing it by hand', async () => {
  const p = await prepareImage(chelsea, CAFFE_PREPROCESSING, 1e8);
  assert.equal(p.tensor.length, 3 * 224 * 224);
  assert.deepEqual([p.width, p.height, p.format], [451, 300, 'png']);
  // 451×300 → 385×256, crop at (80, 16)
  const { data } = await sharp(chelsea)
    .resize(385, 256, { kernel: 'linear', fit: 'fill' })
    .extract({ left: 80, top: 16, width: 224, height: 224 })
    .raw()
    .toBuffer({ resolveWithObject: true });
  assert.deepEqual(p.tensor, toTensor(data, CAFFE_PREPROCESSING));
});

test('odd but valid images decode to a 224×224 RGB crop', async () => {
  const make = {
    grayscale: () => sharp(chelsea).grayscale().png().toBuffer(),
    '16-bit PNG': () => sharp(chelsea).toColourspace('rgb16').png().toBuffer(),
    'CMYK JPEG': () => sharp(chelsea).toColourspace('cmyk').jpeg().toBuffer(),
    'alpha PNG': () => sharp(chelsea).ensureAlpha(0.5).png().toBuffer(),
    'paletted PNG': () => sharp(chelsea).png({ palette: true }).toBuffer(),
    webp: () => sharp(chelsea).webp().toBuffer(),
    avif: () => sharp(chelsea).avif().toBuffer(),
    tiff: () => sharp(chelsea).tiff().toBuffer(),
    gif: () => sharp(chelsea).gif().toBuffer(),
    '1×1': () =>
      sharp({ create: { width: 1, height: 1, channels: 3, background: '#f00' } })
        .png()
        .toBuffer(),
    '10000×50': () =>
      sharp({ create: { width: 10000, height: 50, channels: 3, background: '#0f0' } })
        .png()
        .toBuffer(),
  };
  for (const [name, build] of Object.entries(make)) {
    const p = await prepareImage(await build(), CAFFE_PREPROCESSING, 1e8);
    assert.equal(p.tensor.length, 3 * 224 * 224, name);
    assert.ok(
      p.tensor.every((v) => Number.isFinite(v)),
      name,
    );
  }
});

test('alpha is flattened onto white', async () => {
  const clear = await sharp({
    create: { width: 8, height: 8, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
  })
    .png()
    .toBuffer();
  const p = await prepareImage(clear, CAFFE_PREPROCESSING, 1e8);
  assert.ok(Math.abs(at(p.tensor, 0) - (255 - 103.939)) < 1e-3);
});

test('EXIF orientation is applied before the crop', async () => {
  const rotated = await sharp(chelsea).withMetadata({ orientation: 6 }).jpeg().toBuffer();
  const p = await prepareImage(rotated, CAFFE_PREPROCESSING, 1e8);
  assert.deepEqual([p.width, p.height], [300, 451]);
});

test('a header claiming too many pixels is refused before decoding, naming the limit', async () => {
  await assert.rejects(prepareImage(pngClaiming(30_000, 30_000), CAFFE_PREPROCESSING, 1e8), (e: Error) => {
    assert.ok(e instanceof ImageError);
    assert.match(
      e.message,
      /30000×30000 pixels \(900 MP\), over the limit of 100 MP \(setting cnnLens.maxPixels\)/,
    );
    return true;
  });
});

test('SVG is refused with a reason', async () => {
  const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
  await assert.rejects(prepareImage(svg, CAFFE_PREPROCESSING, 1e8), /SVG images are not supported/);
});
