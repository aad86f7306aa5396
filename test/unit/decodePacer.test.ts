import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DecodePacer } from '../../src/inference/decodePacer';

test('every CPU decodes until a decode and a run are measured', () => {
  const pacer = new DecodePacer(4);
  assert.equal(pacer.slots, 4);
  pacer.decoded(8);
  assert.equal(pacer.slots, 4);
});

test('slots keep decoding ahead of the runs, between one and every CPU', () => {
  // 8 ms decodes against 27 ms of run per image (ResNet50 at batch 8 on 2 CPUs): one slot is plenty.
  const cpu = new DecodePacer(2);
  cpu.decoded(8);
  cpu.ran(216, 8);
  assert.equal(cpu.slots, 1);
  // A GPU run of 1 ms per image needs 1.5 × 8 / 1 = 12 decodes at once; there are 4 CPUs.
  const gpu = new DecodePacer(4);
  gpu.decoded(8);
  gpu.ran(8, 8);
  assert.equal(gpu.slots, 4);
  // 5 ms decodes, 2.5 ms per image: 1.5 × 5 / 2.5 = 3.
  const many = new DecodePacer(16);
  many.decoded(5);
  many.ran(20, 8);
  assert.equal(many.slots, 3);
});

test('decodes beyond the slots wait, and start as slots free or grow', async () => {
  const pacer = new DecodePacer(2);
  pacer.decoded(8);
  pacer.ran(216, 8);
  const order: string[] = [];
  await pacer.acquire();
  order.push('first');
  const second = pacer.acquire().then(() => order.push('second'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, ['first'], 'the second decode waits while one slot is in use');
  pacer.release();
  await second;
  assert.deepEqual(order, ['first', 'second']);
  // Runs that got much faster (a second slot needed) let a waiting decode start without a release.
  const third = pacer.acquire().then(() => order.push('third'));
  await new Promise((r) => setImmediate(r));
  assert.equal(order.length, 2);
  for (let i = 0; i < 20; i++) pacer.ran(16, 8);
  await third;
  assert.deepEqual(order, ['first', 'second', 'third']);
});
