// Rows back to the PyTorch modules that made them. The TorchScript exporter names each node after the module
// scopes it ran in, '/layer1/layer1.0/conv1/Conv': each part is the module's name as its caller knows it,
// which is a path relative to the nearest called ancestor ('layer1.0' inside 'layer1', 'conv1' inside it),
// without the containers that were only indexed (a ModuleDict's key alone); a module called again gets a
// '_1', '_2' … suffix. Each part is matched to the closest module below the one before it.
import type { LayerTable, RowSource } from '../shared/layerTable';
import type { ModuleRecord } from './protocol';

/** The module path a node ran in ('' for the model's own forward), or null for a name with no scopes. */
export function moduleOfNode(nodeName: string, paths: readonly string[]): string | null {
  if (!nodeName.startsWith('/')) return null;
  let at = '';
  for (const part of nodeName.split('/').slice(1, -1)) {
    const next = below(at, part, paths) ?? below(at, part.replace(/_\d+$/, ''), paths);
    if (next === undefined) break; // a scope we cannot place: keep the deepest known
    at = next;
  }
  return at;
}

/** The shortest path under `at` that is `part` or ends with `.part`. */
function below(at: string, part: string, paths: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const p of paths) {
    if (at !== '' && !p.startsWith(at + '.')) continue;
    if (p === at || (p !== part && !p.endsWith('.' + part))) continue;
    if (best === undefined || depth(p) < depth(best)) best = p;
  }
  return best;
}

const depth = (path: string): number => path.split('.').length;

/**
 * Gives each row the construction line of the module its main node ran in. Rows of the model's own forward
 * (functional ops at the top, such as torch.cat or F.relu on their own) get none: the class line would not
 * be where they are written.
 */
export function attachSources(table: LayerTable, modules: readonly ModuleRecord[]): void {
  const paths = modules.map((m) => m.path);
  const byPath = new Map(modules.map((m) => [m.path, m]));
  for (const row of table.rows) {
    const main = row.onnx_nodes[Math.max(0, row.onnx_ops.indexOf(row.op))];
    const path = main === undefined ? null : moduleOfNode(main, paths);
    const site = path ? byPath.get(path)?.source : undefined;
    if (path && site) row.source = { file: site.file, line: site.line, module: path } satisfies RowSource;
  }
}
