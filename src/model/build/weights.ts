// TF.js weight shards → one tensor per manifest entry. The converter writes the tensors back to back,
// in manifest order, across the concatenated shard files, so a tensor may straddle two shards.

/** One entry of a TF.js weights manifest. */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
}

/** One weights group of a TF.js model.json: the shard files and the tensors they hold. */
export interface WeightsGroup {
  paths: string[];
  weights: WeightSpec[];
}

/** A float32 tensor as stored in the shards: little-endian bytes, exactly what ONNX raw_data wants. */
export interface WeightTensor {
  name: string;
  shape: number[];
  bytes: Uint8Array;
}

const BYTES_PER_FLOAT32 = 4;

/** Number of elements of a tensor of the given shape. */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** Formats a shape the way error messages show it, e.g. `[1,1,64,64]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/**
 * Splits the shards of every weights group into named tensors. Fails unless the manifest accounts
 * for every byte of the shards, exactly, and every entry is a well-formed float32 tensor.
 */
export function splitWeights(
  groups: readonly WeightsGroup[],
  shards: readonly Uint8Array[][],
): Map<string, WeightTensor> {
  if (shards.length !== groups.length) {
    throw new Error(`weights: manifest has ${groups.length} groups but ${shards.length} were read`);
  }
  const tensors = new Map<string, WeightTensor>();
  groups.forEach((group, g) => {
    const files = shards[g] ?? [];
    if (files.length !== group.paths.length) {
      throw new Error(
        `weights: group ${g} lists ${group.paths.length} shard files but ${files.length} were read`,
      );
    }
    let expected = 0;
    for (const w of group.weights) {
      if (w.dtype !== 'float32') {
        throw new Error(`weights: ${w.name} has dtype ${w.dtype}; only float32 is supported`);
      }
      if (!w.shape.every((d) => Number.isInteger(d) && d > 0)) {
        throw new Error(`weights: ${w.name} has an invalid shape ${formatShape(w.shape)}`);
      }
      expected += elementCount(w.shape) * BYTES_PER_FLOAT32;
    }
    const data = concat(files);
    if (data.length !== expected) {
      throw new Error(
        `weights: manifest lists ${group.weights.length} tensors (${expected.toLocaleString('en-US')} bytes) ` +
          `but shards hold ${data.length.toLocaleString('en-US')} bytes`,
      );
    }
    let offset = 0;
    for (const w of group.weights) {
      if (tensors.has(w.name)) throw new Error(`weights: ${w.name} appears twice in the manifest`);
      const size = elementCount(w.shape) * BYTES_PER_FLOAT32;
      tensors.set(w.name, { name: w.name, shape: [...w.shape], bytes: data.subarray(offset, offset + size) });
      offset += size;
    }
  });
  return tensors;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const [only, ...more] = parts;
  if (only && more.length === 0) return only;
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
