// Reads an ONNX file without loading its weights: the protobuf is walked with positional reads, and the
// payloads of large initializers (raw_data, float_data, …) are skipped by seeking, so that a 528 MB VGG-16 is
// read as its ~50 KB graph. The result is a compact copy of the model without those payloads, which the
// ordinary parser (src/model/onnxGraph.ts) then reads; external data files are checked, never loaded.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  externalPath,
  keepsValues,
  ModelFileError,
  parseOnnx,
  rawInts,
  type OnnxGraph,
} from '../model/onnxGraph';
import { WireType } from '../model/protobuf';

/** Reads and parses an ONNX file (weights skipped, never loaded), and checks its external data files. */
export async function readOnnxFile(file: string): Promise<OnnxGraph> {
  const stat = await fs.stat(file).catch(() => undefined);
  if (!stat) throw new ModelFileError(`${file} does not exist`, 'missing');
  if (!stat.isFile()) throw new ModelFileError(`${file} is not a file`, 'not a file');
  if (stat.size === 0) throw new ModelFileError(`${file} is empty (0 bytes)`, 'empty');
  let graph: OnnxGraph;
  try {
    graph = parseOnnx(await compactModelFile(file));
  } catch (err) {
    const message = (err as Error).message;
    const problem = /^Truncated/.test(message) ? 'truncated' : 'not onnx';
    throw new ModelFileError(`${file} is not a readable ONNX model: ${message}`, problem);
  }
  await resolveExternalData(graph, path.dirname(file));
  return graph;
}

/** Reads a user's model file; any failure is a ModelFileError that says what is wrong with the file. */
export async function readModelGraph(file: string): Promise<OnnxGraph> {
  try {
    return await readOnnxFile(file);
  } catch (err) {
    if (!(err instanceof ModelFileError)) throw err;
    throw new ModelFileError(`cannot load model ${file}: ${describe(file, err)}`, err.problem);
  }
}

/** The reader's problem, in words about what happened to the file. */
function describe(file: string, err: ModelFileError): string {
  switch (err.problem) {
    case 'empty':
      return 'the file is empty (0 bytes)';
    case 'truncated':
      return 'the file is truncated: it ends in the middle of the model (an incomplete download or copy?)';
    case 'not onnx':
      return `the file is not an ONNX model (${err.message.replace(/^.*is not a readable ONNX model: /, '')})`;
    default:
      return err.message.replace(`${file} `, 'the file ');
  }
}

/**
 * `length` bytes (to the end of the file when negative) at `offset` of the external data file `location` of
 * a model in `dir`; fewer when the file ends first.
 */
export async function readExternalData(
  dir: string,
  location: string,
  offset: number,
  length: number,
): Promise<Uint8Array> {
  const handle = await fs.open(externalPath(dir, location), 'r');
  try {
    const size = length >= 0 ? length : Math.max(0, (await handle.stat()).size - offset);
    const buf = Buffer.alloc(size);
    const { bytesRead } = await handle.read(buf, 0, size, offset);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Checks that every external data file exists and is long enough, and reads the values of the small
 * integer tensors kept there (shapes); weights are never read.
 */
async function resolveExternalData(graph: OnnxGraph, dir: string): Promise<void> {
  const needed = new Map<string, { end: number; tensor: string }>();
  for (const t of graph.initializers.values()) {
    if (!t.external) continue;
    const { location, offset, length } = t.external;
    const end = offset + Math.max(0, length);
    const seen = needed.get(location);
    if (!seen || end > seen.end) needed.set(location, { end, tensor: t.name });
  }
  for (const [location, { end, tensor }] of needed) {
    const file = externalPath(dir, location);
    const stat = await fs.stat(file).catch(() => undefined);
    if (!stat?.isFile()) {
      throw new ModelFileError(
        `the model keeps its weights in "${location}" beside it, and that file is missing (${file})`,
        'external data missing',
      );
    }
    if (stat.size < end) {
      throw new ModelFileError(
        `the external data file "${location}" is ${stat.size.toLocaleString('en-US')} bytes, but tensor ` +
          `${tensor} needs ${end.toLocaleString('en-US')}: the file is truncated or belongs to another export`,
      );
    }
  }
  for (const t of graph.initializers.values()) {
    if (!t.external || !keepsValues(t)) continue;
    const { location, offset, length } = t.external;
    t.ints = rawInts(t, await readExternalData(dir, location, offset, length));
  }
}

// Initializer payloads above this size are skipped: weights. Shape tensors and scalars are far smaller.
const KEEP_PAYLOAD = 16 * 1024;
// TensorProto fields that hold values: float_data, int32_data, int64_data, raw_data, double_data, uint64_data.
const PAYLOAD_FIELDS = new Set([4, 5, 7, 9, 10, 11]);
const WINDOW = 256 * 1024;

/** A compact copy of a model file: every field as written except large initializer payloads. */
async function compactModelFile(file: string): Promise<Uint8Array> {
  const f = await PositionalFile.open(file);
  try {
    const out: Uint8Array[] = [];
    await copyMessage(f, 0, f.size, out, (field) => (field === 7 ? graph : undefined), undefined, modelField);
    return concat(out);
  } finally {
    await f.close();
  }
}

// ModelProto's fields and their wire types: anything else at the top level is not an ONNX model (a text
// or image file would otherwise read as a "truncated" one).
const MODEL_FIELDS = new Map([
  [1, WireType.Varint],
  [2, WireType.LengthDelimited],
  [3, WireType.LengthDelimited],
  [4, WireType.LengthDelimited],
  [5, WireType.Varint],
  [6, WireType.LengthDelimited],
  [7, WireType.LengthDelimited],
  [8, WireType.LengthDelimited],
  [14, WireType.LengthDelimited],
  [20, WireType.LengthDelimited],
  [25, WireType.LengthDelimited],
  [26, WireType.LengthDelimited],
]);

function modelField(field: number, wire: number): void {
  if (MODEL_FIELDS.get(field) !== wire)
    throw new Error(`field ${field} with wire type ${wire} is not a field of an ONNX model`);
}

type Child = (
  field: number,
) => ((f: PositionalFile, start: number, end: number) => Promise<Uint8Array>) | undefined;

// GraphProto: initializers (5) and sparse initializers' values (15) are compacted; the rest is copied.
async function graph(f: PositionalFile, start: number, end: number): Promise<Uint8Array> {
  const out: Uint8Array[] = [];
  await copyMessage(f, start, end, out, (field) => (field === 5 ? tensor : undefined));
  return concat(out);
}

async function tensor(f: PositionalFile, start: number, end: number): Promise<Uint8Array> {
  const out: Uint8Array[] = [];
  await copyMessage(
    f,
    start,
    end,
    out,
    () => undefined,
    (field, length) => PAYLOAD_FIELDS.has(field) && length > KEEP_PAYLOAD,
  );
  return concat(out);
}

/** Copies the fields of [start, end) into `out`, compacting children and dropping what `drop` says. */
async function copyMessage(
  f: PositionalFile,
  start: number,
  end: number,
  out: Uint8Array[],
  child: Child,
  drop: (field: number, length: number) => boolean = () => false,
  check: (field: number, wire: number) => void = () => undefined,
): Promise<void> {
  let pos = start;
  while (pos < end) {
    const [key, afterKey] = await f.varint(pos, end);
    const field = Math.floor(key / 8);
    const wire = key % 8;
    check(field, wire);
    let next: number;
    if (wire === WireType.Varint) next = (await f.varint(afterKey, end))[1];
    else if (wire === WireType.Fixed64) next = afterKey + 8;
    else if (wire === WireType.Fixed32) next = afterKey + 4;
    else if (wire === WireType.LengthDelimited) {
      const [length, body] = await f.varint(afterKey, end);
      next = body + length;
      if (next > end) throw new Error('Truncated protobuf field');
      const compact = child(field);
      if (compact) {
        const bytes = await compact(f, body, next);
        out.push(encodeVarint(key), encodeVarint(bytes.length), bytes);
        pos = next;
        continue;
      }
      if (drop(field, length)) {
        pos = next;
        continue;
      }
    } else throw new Error(`Unsupported protobuf wire type ${wire}`);
    if (next > end) throw new Error('Truncated protobuf field');
    out.push(await f.read(pos, next - pos));
    pos = next;
  }
}

/** Positional reads through a window, so that walking many small fields costs few system calls. */
class PositionalFile {
  private window = Buffer.alloc(0);
  private windowStart = 0;

  private constructor(
    private readonly handle: fs.FileHandle,
    readonly size: number,
  ) {}

  static async open(file: string): Promise<PositionalFile> {
    const handle = await fs.open(file, 'r');
    return new PositionalFile(handle, (await handle.stat()).size);
  }

  /** A copy of bytes [pos, pos + n). */
  async read(pos: number, n: number): Promise<Uint8Array> {
    if (pos + n > this.size) throw new Error('Truncated protobuf field');
    if (pos >= this.windowStart && pos + n <= this.windowStart + this.window.length) {
      return Uint8Array.prototype.slice.call(this.window, pos - this.windowStart, pos - this.windowStart + n);
    }
    if (n > WINDOW) {
      const buf = Buffer.alloc(n);
      await this.handle.read(buf, 0, n, pos);
      return buf;
    }
    const length = Math.min(WINDOW, this.size - pos);
    const buf = Buffer.alloc(length);
    const { bytesRead } = await this.handle.read(buf, 0, length, pos);
    this.window = buf.subarray(0, bytesRead);
    this.windowStart = pos;
    return Uint8Array.prototype.slice.call(this.window, 0, n);
  }

  /** A varint at `pos` (within `end`) and the position after it. */
  async varint(pos: number, end: number): Promise<[number, number]> {
    const bytes = await this.read(pos, Math.min(10, end - pos, this.size - pos));
    let result = 0;
    let scale = 1;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return [result, pos + i + 1];
      scale *= 128;
    }
    throw new Error(bytes.length < 10 ? 'Truncated protobuf varint' : 'Malformed protobuf varint');
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

function encodeVarint(n: number): Uint8Array {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push(v % 0x80 | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
