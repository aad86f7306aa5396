// `cli layers [--json|--markdown] [--model path]`: the layer table of a model, as the Architecture panel shows it.
// A Python file (`--model net.py --class Net`) is built and exported by the Python helper first.
import { analyseModel } from '../inference/modelAnalysis';
import { descriptorForModel } from '../files/descriptorFile';
import { readOnnxFile } from '../files/onnxFile';
import { buildLayerTable } from '../model/structure/table';
import { renderMarkdown, renderText } from './tableText';
import type { LayerTable } from '../shared/layerTable';
import { parseArgs, UsageError } from './args';
import { commandIo, type Io, type Streams } from './io';
import {
  analysePythonFile,
  errorJson,
  errorLine,
  PYTHON_FLAGS,
  pythonModelArgs,
  type PythonModelArgs,
} from './pythonLayers';

const USAGE =
  'usage: layers [--json|--markdown] [--model file.onnx]\n' +
  '       layers [--json|--markdown] --model file.py --class NAME [--python PY] [--input 1,3,224,224] [--args JSON]\n';

/**
 * Runs `layers`: 0 on success, 1 when the model cannot be read (or its Python code fails), 2 on wrong usage.
 * `pythonHelper` is the path of python/cnn_lens_torch.py.
 */
export async function runLayers(
  argv: string[],
  streams: Streams,
  defaultModelPath: string,
  pythonHelper: string,
): Promise<number> {
  let json: boolean;
  let markdown: boolean;
  let model: string;
  let python: PythonModelArgs | undefined;
  let io: Io;
  try {
    const args = parseArgs(argv, ['model', ...PYTHON_FLAGS], ['json', 'markdown', 'help']);
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
    if (model.endsWith('.py')) python = pythonModelArgs(args, model);
    else {
      const stray = PYTHON_FLAGS.find((f) => args.flags.has(f));
      if (stray) throw new UsageError(`--${stray} is for Python models (--model file.py)`);
    }
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    streams.stderr(`cnn-lens layers: ${err.message}\n${USAGE}`);
    return 2;
  }
  if (python) return pythonLayers(python, pythonHelper, io, json, markdown);
  let table: LayerTable;
  try {
    table = await tableOf(model, io);
  } catch (err) {
    const hint = model === defaultModelPath ? ' (run "npm run build" to create the default model)' : '';
    io.stderr(`cnn-lens layers: ${(err as Error).message}${hint}\n`);
    return 1;
  }
  io.stdout(render(table, json, markdown));
  return 0;
}

/** The table as the flags ask: JSON, Markdown or aligned text. */
function render(table: LayerTable, json: boolean, markdown: boolean): string {
  if (json) return JSON.stringify(table, null, 2) + '\n';
  return markdown ? renderMarkdown(table) : renderText(table);
}

/**
 * A Python model's table; on an error, exit code 1 with the error (JSON: `{ error, file, line, kind, module,
 * table }` on stdout; otherwise `file:line: message` on stderr) and the rows that ran before it.
 */
async function pythonLayers(
  m: PythonModelArgs,
  helper: string,
  io: Io,
  json: boolean,
  markdown: boolean,
): Promise<number> {
  const analysis = await analysePythonFile(m, helper);
  const { error, table } = analysis;
  if (!error) {
    io.stdout(render(table!, json, markdown));
    return 0;
  }
  if (json) io.stdout(errorJson({ ...analysis, error }));
  else {
    if (table) io.stdout(render(table, false, markdown));
    io.stderr(`cnn-lens layers: ${errorLine(error)}\n`);
  }
  return 1;
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
