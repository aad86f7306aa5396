// `cli layers [--json|--markdown] [--model path]`: the layer table of a model, as the Architecture panel shows it.
import { analyseModel } from '../inference/modelAnalysis';
import { descriptorForModel } from '../files/descriptorFile';
import { readOnnxFile } from '../files/onnxFile';
import { buildLayerTable } from '../model/structure/table';
import { renderMarkdown, renderText } from './tableText';
import type { LayerTable } from '../shared/layerTable';
import { parseArgs, UsageError } from './args';
import { commandIo, type Io, type Streams } from './io';

const USAGE = 'usage: layers [--json|--markdown] [--model file.onnx]\n';

/** Runs `layers`: 0 on success, 1 when the model cannot be read, 2 on wrong usage. */
export async function runLayers(argv: string[], streams: Streams, defaultModelPath: string): Promise<number> {
  let json: boolean;
  let markdown: boolean;
  let model: string;
  let io: Io;
  try {
    const args = parseArgs(argv, ['model'], ['json', 'markdown', 'help']);
    io = commandIo(streams, args);
    if (args.flags.has('help')) {
      io.stdout(USAGE);
      return 0;
    }
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]!}"`);
    json = args.flags.has('json');
    markdown = args.flags.has('markdown');
    if (json && markdown) throw new UsageError('--json and --markdown exclude each other');
    const m = args.flags.get('model');
    model = typeof m === 'string' ? m : defaultModelPath;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    streams.stderr(`cnn-lens layers: ${err.message}\n${USAGE}`);
    return 2;
  }
  let table: LayerTable;
  try {
    table = await tableOf(model, io);
  } catch (err) {
    const hint = model === defaultModelPath ? ' (run "npm run build" to create the default model)' : '';
    io.stderr(`cnn-lens layers: ${(err as Error).message}${hint}\n`);
    return 1;
  }
  if (json) io.stdout(JSON.stringify(table, null, 2) + '\n');
  else io.stdout(markdown ? renderMarkdown(table) : renderText(table));
  return 0;
}

/**
 * The table as the extension shows it: for a model CNN Lens can feed, at its input size and with shapes
 * static inference cannot decide measured by a run (here, on the CLI's own thread); any other graph
 * (no image input, say) still gets its static table.
 */
async function tableOf(model: string, io: Io): Promise<LayerTable> {
  const descriptor = await descriptorForModel(model, 'torchvision', []).catch(() => undefined);
  if (!descriptor) return buildLayerTable(await readOnnxFile(model));
  return (await analyseModel(descriptor, (m) => io.info(`cnn-lens layers: ${m}\n`))).table;
}
