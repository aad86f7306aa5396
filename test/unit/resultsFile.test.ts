// Export of results: CSV quoting (and formula-injection guard) and the JSON shape.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resultsCsv, resultsJson } from '../../src/host/panel/resultsFile';
import type { ImageEntry } from '../../src/shared/protocol';
import { at } from './helpers/at';

const entries: ImageEntry[] = [
  {
    file: 'cats/chelsea, 1.png',
    uri: 'file:///work/cats/chelsea%2C%201.png',
    top: [
      { index: 285, label: 'Egyptian cat', probability: 0.75 },
      { index: 282, label: 'tiger cat', probability: 0.15 },
    ],
    provider: 'cpu',
    ms: { decode: 5, run: 60, total: 70 },
    width: 451,
    height: 300,
    preview: 'data:image/jpeg;base64,AAAA',
  },
  {
    file: '=cmd.png',
    uri: 'file:///work/%3Dcmd.png',
    error: 'not a supported image (unrecognised file format)',
  },
];

test('CSV has a header, quotes commas and guards formulas', () => {
  const lines = resultsCsv(entries).trimEnd().split('\r\n');
  assert.equal(lines[0], 'file,top1_index,top1_label,top1_probability,top5,error');
  assert.equal(
    lines[1],
    '"cats/chelsea, 1.png",285,Egyptian cat,0.750000,Egyptian cat (0.7500); tiger cat (0.1500),',
  );
  assert.equal(lines[2], "'=cmd.png,,,,,not a supported image (unrecognised file format)");
});

test('JSON uses the CLI shape and leaves out previews', () => {
  const rows = JSON.parse(resultsJson(entries)) as Record<string, unknown>[];
  assert.deepEqual(Object.keys(at(rows, 0)), ['file', 'top', 'provider', 'ms']);
  assert.deepEqual(rows[1], { file: '=cmd.png', error: 'not a supported image (unrecognised file format)' });
});
