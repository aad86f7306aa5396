// Hostile and odd inputs on disk, generated in a temp dir: one batch through the real worker, then the CLI.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { classifyAll, type Outcome } from '../../src/inference/classifyAll';
import { InferenceClient } from '../../src/inference/client';
import { ImageError, prepareImage } from '../../src/inference/preprocess';
import { CAFFE_PREPROCESSING } from '../../src/model/descriptor';
import { readImageFile } from '../../src/files/imageFiles';
import { at } from './helpers/at';
import { pngClaiming, truncatedJpeg } from './helpers/badImages';
import { CLI, IMAGES, WORKER } from './helpers/paths';
import { cpuConfig } from './helpers/client';

/** What one corpus file must give: a top-1 label, a success of a given displayed size, or an error. */
type Expect = { label: string; width?: number; height?: number } | { width: number; height: number } | RegExp;

const fixture = (f: string): Buffer => readFileSync(path.join(IMAGES, f));
const solid = (width: number, height: number, background: string): Promise<Buffer> =>
  sharp({ create: { width, height, channels: 3, background } })
    .png()
    .toBuffer();

/** Two photographs as the frames of one animation; the first (coffee) is the one that counts. */
async function animated(format: 'gif' | 'webp'): Promise<Buffer> {
  const frames = await Promise.all(
    ['coffee.png', 'orange.jpg'].map((f) => sharp(fixture(f)).resize(256, 256, { fit: 'fill' }).toBuffer()),
  );
  const out = sharp(frames, { join: { animated: true } });
  const bytes = await (format === 'gif' ? out.gif() : out.webp()).toBuffer();
  assert.equal((await sharp(bytes).metadata()).pages, 2, `${format} is not animated`);
  return bytes;
}

/** Deterministic junk whose first bytes match no image signature. */
function randomBytes(n: number): Buffer {
  const b = Buffer.alloc(n);
  let x = 0x2545f491;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

let dir: string;
/** Corpus file name → what it must give; filled in `before`, in the order files are classified. */
const corpus = new Map<string, Expect>();
let client: InferenceClient;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'cnnlens-hostile-'));
  const chelsea = fixture('chelsea.png');
  const files: [string, Buffer | Promise<Buffer>, Expect][] = [
    ['chelsea.png', chelsea, { label: 'Egyptian cat', width: 451, height: 300 }],
    ['truncated.png', chelsea.subarray(0, chelsea.length >> 1), /truncated or corrupt/],
    ['truncated.jpg', truncatedJpeg(), /truncated or corrupt/],
    ['empty.png', Buffer.alloc(0), /^the file is empty \(0 bytes\)$/],
    ['random.jpg', randomBytes(4096), /^not a supported image \(unrecognised file format\)$/],
    ['text.png', Buffer.from('this is a text file, not a PNG\n'), /^not a supported image/],
    ['bomb-30000x30000.png', pngClaiming(30_000, 30_000), /30000×30000 pixels \(900 MP\), over the limit/],
    // 0.1 MP is under the default limit; the header lies about the data, which still decodes.
    ['claims-100000x1.png', pngClaiming(100_000, 1), { width: 100_000, height: 1 }],
    // A side no decoder takes: the header is corrupt, and says so (not a resampler's complaint).
    [
      'claims-1x2000000.png',
      pngClaiming(1, 2_000_000),
      /header claims 1×2000000 pixels, .*the file is corrupt$/,
    ],
    ['cmyk.jpg', sharp(chelsea).toColourspace('cmyk').jpeg().toBuffer(), { label: 'Egyptian cat' }],
    ['16-bit.png', sharp(chelsea).toColourspace('rgb16').png().toBuffer(), { label: 'Egyptian cat' }],
    ['paletted.png', sharp(chelsea).png({ palette: true }).toBuffer(), { label: 'Egyptian cat' }],
    ['grayscale.png', sharp(chelsea).grayscale().png().toBuffer(), { label: 'Egyptian cat' }],
    ['alpha.png', sharp(chelsea).ensureAlpha(0.8).png().toBuffer(), { label: 'Egyptian cat' }],
    // Pixels stored turned 90° anticlockwise; EXIF orientation 6 (turn clockwise to display) undoes it.
    [
      'exif-rotated.jpg',
      sharp(chelsea).rotate(-90).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer(),
      { label: 'Egyptian cat', width: 451, height: 300 },
    ],
    ['animated.gif', animated('gif'), { label: 'espresso', width: 256, height: 256 }],
    ['animated.webp', animated('webp'), { label: 'espresso', width: 256, height: 256 }],
    ['1x1.png', solid(1, 1, '#f00'), { width: 1, height: 1 }],
    ['10000x50.png', solid(10_000, 50, '#0f0'), { width: 10_000, height: 50 }],
    [
      'vector.svg',
      Buffer.from(
        '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64"/></svg>',
      ),
      /^SVG images are not supported/,
    ],
  ];
  for (const [name, bytes, expect] of files) {
    writeFileSync(path.join(dir, name), await bytes);
    corpus.set(name, expect);
  }
  symlinkSync('loop-b.png', path.join(dir, 'loop-a.png'));
  symlinkSync('loop-a.png', path.join(dir, 'loop-b.png'));
  corpus.set('loop-a.png', /^the path is a symbolic link loop$/);
  execFileSync('mkfifo', [path.join(dir, 'fifo.png')]);
  corpus.set('fifo.png', /not a regular file/);
  mkdirSync(path.join(dir, 'folder.jpg'));
  corpus.set('folder.jpg', /^it is a folder, not an image file$/);
  corpus.set('orange.jpg', { label: 'orange' });
  copyFileSync(path.join(IMAGES, 'orange.jpg'), path.join(dir, 'orange.jpg'));

  client = new InferenceClient(WORKER, await cpuConfig());
});

after(async () => {
  await client.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** Checks one outcome (or CLI entry) against its expectation; returns the failure or undefined. */
function mismatch(
  name: string,
  got: { error?: string; label?: string; width?: number; height?: number },
): string | undefined {
  const want = corpus.get(name)!;
  if (want instanceof RegExp) {
    return got.error !== undefined && want.test(got.error)
      ? undefined
      : `${name}: wanted an error matching ${want}, got ${JSON.stringify(got)}`;
  }
  if (got.error !== undefined) return `${name}: wanted a result, got error "${got.error}"`;
  if ('label' in want && got.label !== want.label) return `${name}: top-1 ${got.label}, wanted ${want.label}`;
  if (want.width !== undefined && got.width !== undefined && got.width !== want.width)
    return `${name}: width ${got.width}, wanted ${want.width}`;
  if (want.height !== undefined && got.height !== undefined && got.height !== want.height)
    return `${name}: height ${got.height}, wanted ${want.height}`;
  return undefined;
}

// A FIFO that were read instead of refused would block its lane for good: fail on time, not hang.
const NO_HANG = { timeout: 120_000 };

test(
  'the whole hostile corpus in one batch: specific errors, right top-1s, nothing dropped, worker intact',
  NO_HANG,
  async () => {
    const worker = () => (client as unknown as { worker?: Worker }).worker;
    await client.runtimeInfo(); // the worker and its session exist before the corpus
    const first = worker();
    const names = [...corpus.keys()];
    const outcomes = await classifyAll(
      client,
      names.map((n) => ({ name: n, read: () => readImageFile(path.join(dir, n)) })),
      { topK: 5, inFlight: 16 },
    );
    assert.equal(outcomes.length, names.length);
    assert.deepEqual(
      outcomes.map((o) => o.name),
      names,
    );
    const failures = outcomes
      .map((o) =>
        mismatch(o.name, {
          error: o.error,
          label: o.result?.top[0]?.label,
          width: o.result?.width,
          height: o.result?.height,
        }),
      )
      .filter((m) => m !== undefined);
    assert.deepEqual(failures, []);

    // Upright again means the same probabilities as the original, not just the same top-1 (an
    // unrotated or wrongly rotated copy is still a cat, with probabilities off by 0.1 or more).
    const byName = new Map<string, Outcome>(outcomes.map((o) => [o.name, o]));
    const original = byName.get('chelsea.png')!.result!.top;
    const rotated = byName.get('exif-rotated.jpg')!.result!.top;
    for (const p of original.slice(0, 3)) {
      const q = rotated.find((r) => r.index === p.index);
      assert.ok(
        q && Math.abs(q.probability - p.probability) < 0.04,
        `${p.label}: ${q?.probability} vs ${p.probability}`,
      );
    }

    assert.equal(worker(), first, 'the worker was replaced: something in the corpus crashed it');
    const r = await client.classify('coffee.png', fixture('coffee.png'), { topK: 1 });
    assert.equal(r.top[0]?.label, 'espresso');
  },
);

test('100000×1 under a small maxPixels is refused with exact pixel counts, not "0.1 MP over 0.1 MP"', async () => {
  for (const [limit, text] of [
    [99_999, '100,000 pixels), over the limit of 99,999 pixels'],
    [10_000, '100,000 pixels), over the limit of 10,000 pixels'],
  ] as const) {
    await assert.rejects(prepareImage(pngClaiming(100_000, 1), CAFFE_PREPROCESSING, limit), (e: Error) => {
      assert.ok(e instanceof ImageError);
      assert.equal(e.message, `the image is 100000×1 pixels (${text} (setting cnnLens.maxPixels)`);
      return true;
    });
  }
  // Megapixels stay where they tell the two apart.
  await assert.rejects(
    prepareImage(pngClaiming(3000, 2000), CAFFE_PREPROCESSING, 5_000_000),
    /3000×2000 pixels \(6 MP\), over the limit of 5 MP/,
  );
});

test('decodes failing at once keep their own messages (libvips shares one error buffer)', async () => {
  const chelsea = fixture('chelsea.png');
  const inputs: [string, Buffer][] = [];
  for (let i = 0; i < 12; i++) {
    inputs.push(['jpeg', truncatedJpeg()], ['png', chelsea.subarray(0, chelsea.length >> 1)]);
  }
  const own = { jpeg: /^the image data is truncated or corrupt \(VipsJpeg: /, png: /truncated.*\(pngload/ };
  for (let round = 0; round < 3; round++) {
    const settled = await Promise.allSettled(
      inputs.map(([, b]) => prepareImage(b, CAFFE_PREPROCESSING, 1e8)),
    );
    const wrong = settled.flatMap((s, i) => {
      const kind = at(inputs, i)[0] as 'jpeg' | 'png';
      const message = s.status === 'rejected' ? (s.reason as Error).message : 'decoded';
      return own[kind].test(message) ? [] : [[kind, message]];
    });
    assert.deepEqual(wrong, [], `round ${round}`);
  }
});

test(
  'an unreadable file (chmod 000) is reported as permission denied',
  {
    skip:
      process.getuid?.() === 0
        ? 'running as root, which reads chmod 000 files anyway: nothing to refuse'
        : false,
  },
  async () => {
    const file = path.join(dir, 'unreadable.png');
    copyFileSync(path.join(IMAGES, 'chelsea.png'), file);
    chmodSync(file, 0o000);
    const [o] = await classifyAll(client, [{ name: file, read: () => readImageFile(file) }], {
      topK: 1,
      inFlight: 1,
    });
    assert.equal(o?.error, 'permission denied: the file cannot be read');
  },
);

test(
  'the CLI over the corpus: exit code 1, one entry per file in order, reasons named',
  NO_HANG,
  async () => {
    // A folder named on the command line is walked, not classified: folder.jpg is empty, so no entry.
    const names = [...corpus.keys()].filter((n) => n !== 'folder.jpg');
    const files = names.map((n) => path.join(dir, n));
    const { code, stdout } = await promisify(execFile)('node', [CLI, 'classify', '--json', ...files], {
      timeout: NO_HANG.timeout,
    }).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
    );
    assert.equal(code, 1);
    const entries = JSON.parse(stdout) as { file: string; error?: string; top?: { label: string }[] }[];
    assert.deepEqual(
      entries.map((e) => e.file),
      files,
    );
    const failures = entries
      .map((e, i) => mismatch(at(names, i), { error: e.error, label: e.top?.[0]?.label }))
      .filter((m) => m !== undefined);
    assert.deepEqual(failures, []);
  },
);

test("classify() leaves the caller's buffer alone when given a view into a larger one", async () => {
  const whole = fixture('chelsea.png');
  const length = whole.length;
  const head = whole.subarray(0, length >> 1);
  await client.classify('head.png', head, { topK: 1 }).catch(() => undefined);
  assert.equal(whole.length, length, "the caller's buffer was detached");
});
