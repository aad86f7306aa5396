// Explanations you can check: faithfulness of class activation maps against random maps, occlusion and
// Score-CAM agreeing with CAM, on the real ResNet50 and a real photo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { prepareImage } from '../../src/inference/preprocess';
import { softmax } from '../../src/inference/postprocess';
import { classActivationMap, findCamSource } from '../../src/model/cam';
import { loadDescriptor } from '../../src/files/descriptorFile';
import { auc, faithfulness } from '../../src/model/explain/faithfulness';
import { occlusionMap, scoreCam } from '../../src/model/explain/gradientFree';
import { blurred, pixelOrder, upsample, type Grid } from '../../src/model/explain/maps';
import { parseOnnx } from '../../src/model/onnxGraph';
import { readFloats } from '../../src/model/quantize/tensors';

const MODELS = path.resolve(__dirname, '..', '..', 'models');
const built = existsSync(path.join(MODELS, 'resnet50.onnx'));

test('maps: bilinear upsampling by cell centres, pixel order, blur keeps the mean, AUC', () => {
  const up = upsample({ rows: 2, cols: 2, values: [0, 1, 2, 3] }, 4);
  assert.deepEqual(Array.from(up.slice(0, 4)), [0, 0.25, 0.75, 1], 'cell centres at 1 and 3 of 4 pixels');
  assert.deepEqual(Array.from(up.slice(12)), [2, 2.25, 2.75, 3]);
  assert.deepEqual(
    Array.from(pixelOrder(Float32Array.of(0.2, 0.9, 0.2, 0.5))),
    [1, 3, 0, 2],
    'ties in index order',
  );
  const img = Float32Array.from({ length: 3 * 16 * 16 }, (_, i) => (i * 7919) % 13);
  const b = blurred(img, 16, 2);
  const mean = (a: Float32Array): number => a.reduce((s, v) => s + v, 0) / a.length;
  assert.ok(Math.abs(mean(b) - mean(img)) < 0.5, 'blur keeps the colour');
  assert.ok(Math.max(...b) - Math.min(...b) < Math.max(...img) - Math.min(...img), 'and removes detail');
  assert.equal(auc([0.5, 0.5, 0.5]), 0.5);
  assert.equal(auc([1, 0]), 0.5);
});

/** ResNet50's features before global pooling and the class scorer, on a test photo. */
async function setup(photo: string): Promise<{
  image: Float32Array;
  features: Float32Array;
  cam: Grid;
  score: (k: number) => (images: Float32Array[]) => Promise<number[]>;
  top: number;
  release: () => Promise<void>;
}> {
  const d = await loadDescriptor(path.join(MODELS, 'resnet50.json'));
  const bytes = await fs.readFile(d.modelPath);
  const source = findCamSource(parseOnnx(bytes)).source!;
  const model = onnx.ModelProto.decode(bytes);
  model.graph!.output!.push({ name: source.features, type: { tensorType: { elemType: 1 } } });
  const weights = readFloats(model.graph!.initializer!.find((t) => t.name === source.weight)!);
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish());
  const crop = d.preprocessing.crop;
  const image = (
    await prepareImage(
      await fs.readFile(path.join(__dirname, '..', 'fixtures', 'images', photo)),
      d.preprocessing,
      1e8,
    )
  ).tensor;
  const one = await session.run({ input: new ort.Tensor('float32', image, [1, 3, crop, crop]) });
  const probs = softmax(one.logits!.data as Float32Array);
  const top = Array.from(probs).indexOf(Math.max(...probs));
  const features = one[source.features]!.data as Float32Array;
  const cam: Grid = {
    rows: source.height,
    cols: source.width,
    values: Array.from(classActivationMap(features, weights, source, top)),
  };
  const score =
    (k: number) =>
    async (images: Float32Array[]): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < images.length; i += 8) {
        const batch = images.slice(i, i + 8);
        const data = new Float32Array(batch.length * image.length);
        batch.forEach((x, j) => data.set(x, j * image.length));
        const r = await session.run({
          input: new ort.Tensor('float32', data, [batch.length, 3, crop, crop]),
        });
        const logits = r.logits!.data as Float32Array;
        for (let j = 0; j < batch.length; j++)
          out.push(softmax(logits.subarray(j * 1000, (j + 1) * 1000))[k]!);
      }
      return out;
    };
  return { image, features, cam, score, top, release: () => session.release() };
}

function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  const ma = Array.from(a).reduce((s, v) => s + v, 0) / n;
  const mb = Array.from(b).reduce((s, v) => s + v, 0) / n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    ab += (a[i]! - ma) * (b[i]! - mb);
    aa += (a[i]! - ma) ** 2;
    bb += (b[i]! - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

test(
  'CAM beats a random map at insertion on every test photo; deletion says when it does not',
  { skip: !built && 'models not built' },
  async (t) => {
    for (const photo of ['chelsea.png', 'coffee.png', 'orange.jpg']) {
      const s = await setup(photo);
      const r = await faithfulness(s.image, s.cam, s.score(s.top), { crop: 224, steps: 20 });
      t.diagnostic(
        `${photo}: CAM deletion ${r.deletion_auc.toFixed(3)}, insertion ${r.insertion_auc.toFixed(3)}, average drop ` +
          `${r.average_drop.toFixed(1)}%; random deletion ${r.random.deletion_auc.toFixed(3)}, insertion ` +
          `${r.random.insertion_auc.toFixed(3)}, average drop ${r.random.average_drop.toFixed(1)}%`,
      );
      assert.equal(r.deletion.length, 21);
      assert.ok(
        Math.abs(r.deletion[0]! - r.insertion.at(-1)!) < 1e-5,
        'the curves start and end on the whole image',
      );
      assert.ok(r.deletion.at(-1)! < 0.05, 'nothing left, no class');
      assert.ok(
        r.insertion_auc > r.random.insertion_auc + 0.1,
        `${photo}: adding CAM pixels first finds the class faster`,
      );
      await s.release();
    }
  },
);

test(
  'occlusion and Score-CAM point where CAM points (ResNet50, coffee.png)',
  { skip: !built && 'models not built' },
  async (t) => {
    const s = await setup('coffee.png');
    const mean = new Float32Array(s.image.length); // 0 after normalisation: the mean pixel
    const occ = await occlusionMap(s.image, mean, s.score(s.top), { crop: 224, patch: 64, stride: 32 });
    assert.deepEqual([occ.rows, occ.cols], [6, 6]);
    const camOnOcc = upsample(s.cam, 6);
    const score = await scoreCam(
      s.image,
      mean,
      { channels: 2048, height: 7, width: 7, data: s.features },
      s.score(s.top),
      224,
      32,
    );
    const rOcc = correlation(occ.values, camOnOcc);
    const rScore = correlation(score.values, s.cam.values);
    t.diagnostic(`correlation with CAM: occlusion ${rOcc.toFixed(2)}, Score-CAM ${rScore.toFixed(2)}`);
    assert.ok(rOcc > 0.3, `occlusion agrees with CAM (r = ${rOcc.toFixed(2)})`);
    assert.ok(rScore > 0.5, `Score-CAM agrees with CAM (r = ${rScore.toFixed(2)})`);
    await s.release();
  },
);
