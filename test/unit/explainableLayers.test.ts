// Which layers maps can be made at (src/model/explain/layers.ts), on the real torchvision exports: only
// feature maps bigger than 1×1, the layer CAM (or EigenCAM) reads always among them, every name one the
// layer table shows. MobileNet V2 and EfficientNet read CAM at a row that no stage or block ends at
// ('head 1×1, 1280'), DenseNet at the output of its last BatchNorm and ReLU, folded into the pool's row.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findCamSource } from '../../src/model/cam';
import { explainableLayers, type ExplainableLayers } from '../../src/model/explain/layers';
import { buildLayerTable } from '../../src/model/structure/table';
import type { LayerTable } from '../../src/shared/layerTable';
import { FIXTURES, fixtureGraph } from './helpers/fixtures';

/** The fixture's table and explainable layers, CAM's features found as the exploration model finds them. */
function explainable(fixture: string): { table: LayerTable; found: ExplainableLayers; cam: boolean } {
  const graph = fixtureGraph(fixture);
  const table = buildLayerTable(graph);
  const { source } = findCamSource(graph);
  const cam = source
    ? {
        tensor: source.features,
        shape: [source.channels, source.height, source.width] as [number, number, number],
      }
    : null;
  return { table, found: explainableLayers(graph, table.rows, cam), cam: cam !== null };
}

for (const fixture of FIXTURES) {
  test(`${fixture}: feature maps bigger than 1×1 only, the map's layer among them, named as the table names it`, () => {
    const { table, found } = explainable(fixture);
    const names = new Set([
      ...table.rows.flatMap((r) => [r.name, `${r.name} input`]),
      ...table.stages.map((s) => s.stage),
      ...table.blocks.map((b) => b.block),
    ]);
    assert.ok(found.outputs.length > 0);
    for (const o of found.outputs) {
      const [, h, w] = o.shape;
      assert.ok(h! * w! > 1, `${o.layer}: ${o.shape.join('×')}`);
      assert.ok(names.has(o.layer), `${o.layer} is a name of the table`);
      if (o.row !== null) assert.equal(table.rows.find((r) => r.name === o.row)?.output, o.tensor, o.layer);
    }
    assert.ok(found.map, 'every classifier here has a feature map to draw');
    assert.ok(found.outputs.includes(found.map), `${found.map.layer} is listed`);
    // The classifier's output is one value per class: never listed.
    const last = table.stages.at(-1)!;
    assert.ok(!found.outputs.some((o) => o.kind === 'stage' && o.layer === last.stage), last.stage);
  });
}

for (const [fixture, layer, shape] of [
  ['mobilenet_v2.ts', 'head 1×1, 1280', [1280, 7, 7]],
  ['efficientnet_b0.ts', 'head 1×1, 1280', [1280, 7, 7]],
  ['mobilenet_v2.dynamo', 'head 1×1, 1280', [1280, 7, 7]],
] as const) {
  test(`${fixture}: CAM reads ${layer}, a row no stage or block ends at, listed last`, () => {
    const { found, cam } = explainable(fixture);
    assert.ok(cam);
    assert.deepEqual([found.map?.layer, found.map?.kind, found.map?.row], [layer, 'layer', layer]);
    assert.deepEqual(found.map?.shape, shape);
    assert.equal(found.outputs.at(-1), found.map);
    assert.equal(found.outputs.filter((o) => o.kind === 'layer').length, 1);
  });
}

for (const fixture of ['densenet121.ts', 'densenet121.op7', 'densenet121.dynamo']) {
  test(`${fixture}: CAM reads the last BatchNorm and ReLU's output, inside the pool's row: "global avg pool input"`, () => {
    const { table, found, cam } = explainable(fixture);
    assert.ok(cam);
    const pool = table.rows.find((r) => r.name === 'global avg pool')!;
    assert.match(pool.activation ?? '', /^pre-activation: BN, relu/);
    assert.deepEqual(
      [found.map?.layer, found.map?.kind, found.map?.row],
      ['global avg pool input', 'layer', null],
    );
    assert.deepEqual(found.map?.shape, [1024, 7, 7]);
    assert.ok(!found.outputs.some((o) => o.layer.includes('/')), 'no ONNX tensor name');
  });
}

test('ResNet-50: CAM reads conv5_x (its last block conv5_3 ends there too); no row is added', () => {
  const { found } = explainable('resnet50.ts');
  assert.deepEqual([found.map?.layer, found.map?.kind], ['conv5_x', 'stage']);
  assert.deepEqual(
    found.outputs.filter((o) => o.tensor === found.map?.tensor).map((o) => o.layer),
    ['conv5_x', 'conv5_3'],
  );
  assert.deepEqual(
    found.outputs.filter((o) => o.kind === 'stage').map((o) => o.layer),
    ['conv1', 'conv2_x', 'conv3_x', 'conv4_x', 'conv5_x'],
  );
});

test("VGG-16 and MobileNet V3 (heads CAM cannot explain): EigenCAM's layer is the last feature map, listed", () => {
  for (const [fixture, layer] of [
    ['vgg16.ts', 'avg pool 1×1'],
    ['mobilenet_v3_small.ts', 'head 1×1, 576'],
  ] as const) {
    const { found, cam } = explainable(fixture);
    assert.equal(cam, false, fixture);
    assert.equal(found.map?.layer, layer, fixture);
    assert.equal(found.outputs.at(-1), found.map, fixture);
  }
});
