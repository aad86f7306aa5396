// The sha256 check of a built model is done once per file version, not on every new worker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { matchesSha256 } from '../../src/inference/verified';

test('a file checked once is trusted while its size and time stay; any change is hashed again', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cnn-lens-verified-'));
  const file = path.join(dir, 'm.onnx');
  const record = path.join(dir, 'record.json');
  await fs.writeFile(file, Buffer.alloc(1 << 20, 7));
  const sha = createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex');
  assert.equal(await matchesSha256(file, sha, record), true);
  const entries = JSON.parse(await fs.readFile(record, 'utf8')) as Record<string, { sha256: string }>;
  assert.deepEqual(
    Object.values(entries).map((e) => e.sha256),
    [sha],
    'the check is recorded',
  );
  assert.equal(
    await matchesSha256(file, 'f'.repeat(64), record),
    false,
    'another expected sha is hashed, not trusted',
  );
  // Same size, new content and time: the record no longer vouches for it.
  await fs.writeFile(file, Buffer.alloc(1 << 20, 8));
  await fs.utimes(file, new Date(), new Date(Date.now() + 5000));
  assert.equal(await matchesSha256(file, sha, record), false);
  await fs.rm(dir, { recursive: true });
});
