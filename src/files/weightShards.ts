// The TF.js weight shard files the built-in model is converted from (see src/model/build/).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { WeightsGroup } from '../model/build/weights';

/** Reads every group's shard files (paths relative to `dir`, the folder of model.json), in manifest order. */
export async function readShards(dir: string, groups: readonly WeightsGroup[]): Promise<Uint8Array[][]> {
  return Promise.all(
    groups.map((group) => Promise.all(group.paths.map((p) => fs.readFile(path.join(dir, p))))),
  );
}
