// The CNN Lens command line: the same core as the extension, no 'vscode'.
import * as path from 'node:path';
import { UsageError } from './cli/args';
import { runClassify } from './cli/classify';
import { runCompare } from './cli/compare';
import { runExplain } from './cli/explain';
import type { Streams } from './cli/io';
import { runLayers } from './cli/layers';
import { helperScript } from './python/interpreter';
import { runProfile } from './cli/profile';
import { runQuantize } from './cli/quantize';

const USAGE = `usage: node dist/cli.js <command> [options] [--quiet]

  Long runs (classify, quantize, profile, compare) draw a progress line on stderr when it is a terminal:
  done/total, rate, time left. --quiet (any command) leaves it out, and informational lines on stderr too;
  errors are still written. stdout is the same either way.

  classify [--top K] [--json] [--provider auto|cpu|webgpu|cuda|dml|coreml] [--precision fp32|int8]
           [--batch N] [--threads N] [--max-pixels N] [--model file.onnx [--preprocessing torchvision|caffe|tf|raw]]
           [--conf 0.25] [--iou 0.7] [--masks DIR] <image|folder…>
      Top-K classes per image (folders: recursive, image files only). The default model is the built-in
      ResNet50; --model takes any image classifier with an [N, 3, H, W] input (its size sets the crop)
      and an [N, classes] output. Its <model>.json beside it, if any, sets preprocessing and labels;
      otherwise --preprocessing does (default torchvision), with ImageNet labels for 1000 classes.
      --precision int8 runs the model's int8 file (<model>.int8.onnx; the built-in one has its own) on the
      CPU; GPU providers run fp32 and say so. Exit code 1 when any file failed; its entry says why.
      Detectors and segmenters (YOLO v5/v8/11 exports, torchvision detectors, DeepLab/FCN/U-Net) see the
      whole image (letterboxed, or stretched) and answer by task: boxes in the image's pixels, best first,
      after class-aware NMS (--conf 0.25, --iou 0.7, at most 300), with mask_pixels (instances) or
      keypoints (pose); segmenters: each class's share of the image. --masks DIR writes each image's class
      (or instance) map as a one-channel PNG at the image's size.

  explain [--json] [--method cam|gradcam|hirescam|occlusion|scorecam] [--layer STAGE|BLOCK|ROW] [--metrics]
          [--classes K] [--patch N] [--stride N] [--channels K] [--batch N] [--top K] [--box N] [--provider P]
          [--precision P] [--model file.onnx …] <image>
      Per-layer activation statistics and maps (0…1, the layer's H×W) of where the top classes' evidence
      lies: cam (default: class activation maps over the features the classifier pools, or one
      class-agnostic EigenCAM map when the head has no global pool → fc), gradcam and hirescam (at any
      stage or block output whose gradient the model allows; default the last stage), occlusion (--patch
      and --stride in crop pixels, default 32 and 16 at 224, scaled to other crops) or scorecam (the
      --channels strongest channels of the layer, default 32). --layer conv4_x explains at that stage's
      output and lists its 16 strongest channels; a layer-table row name lists that row's channels.
      --classes sets how many top classes get a map (default 5). --metrics adds each map's faithfulness
      beside a random map's: deletion and insertion AUC, average drop, increase in confidence (about 40
      images per class and 40 for the random map, scored in runs of --batch, default 8).
      Detectors and segmenters: EigenCAM of the backbone's and each neck level's output over the image
      (no class needed); --box N (detectors with YOLOv8-style heads): Grad-CAM of the N-th best box's class
      logit at the neck output its head scale reads.
      Exit code 1 when the method cannot explain the layer or model; the reason is printed.

  layers [--json|--markdown] [--model file.onnx]
  layers [--json|--markdown] --model file.py --class NAME [--python PY] [--input 1,3,224,224] [--args JSON]
      The layer table (stages, blocks, kernels, strides, shapes, parameters, multiply-adds) of any
      ONNX model; shapes static inference cannot decide are measured by one onnxruntime run.
      A PyTorch model class in a Python file is built with PY (default $CNN_LENS_PYTHON, else python3;
      it needs torch), run once on zeros of --input and exported to ONNX as written (BatchNorm kept);
      each row gains the file and line that constructed its module ("source"). --input and --args
      (JSON: [positional] or {keywords}) default to a "# cnn-lens: input=1,3,32,32 args=(10,)" comment
      above the class, else 1,3,224,224 and no arguments. When the code fails (syntax, import,
      constructor, forward, export), exit code 1 with the innermost line in the model's folder:
      --json prints { "error", "file", "line", "kind", "module", "table" }, the table holding the
      modules that ran before a failed forward pass, with their shapes.

  compare [--json] [--runs N] [--no-timing] [--provider P] [--threads N] [--precision P] <model.onnx…>
      Models side by side: family, depth, parameters, buffers, multiply-adds, stages, blocks, and the
      median ms per image at batch 1 and 8 on this machine (N runs, default 10; --precision int8 times
      each model's int8 file). Model files only (the built-in one is models/resnet50.onnx). Exit code 1
      when any model failed; its entry says why.

  profile [--json] [--batch N] [--runs N] [--provider P] [--precision P] [--model file.onnx …]
      Where the time goes: onnxruntime's profile of N runs (default 10, batch 1) after a warm-up, per
      layer and stage sorted by time: median ms, share, GFLOP/s against this machine's peak (one large
      convolution), and the provider each ran on. Also the time of a plain run, to show the profiler's cost.

  quantize --images <folder> [--hold-out 0.2] [--out file.onnx] [--json] [--model file.onnx …]
      Calibrates the model on the folder's images (recursive) but a held-out share, writes its int8
      model (default <model>.int8.onnx beside it; the built-in model has one, so it needs --out), and
      reports fp32 against int8 on the held-out images: top-1 agreement, mean |Δp|, changed images.
`;

async function main(argv: string[], streams: Streams): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'classify':
        return await runClassify(rest, streams, __dirname);
      case 'explain':
        return await runExplain(rest, streams, __dirname);
      case 'layers':
        return await runLayers(
          rest,
          streams,
          path.join(__dirname, '..', 'models', 'resnet50.onnx'),
          helperScript(path.join(__dirname, '..')),
        );
      case 'compare':
        return await runCompare(rest, streams, __dirname);
      case 'profile':
        return await runProfile(rest, streams, __dirname);
      case 'quantize':
        return await runQuantize(rest, streams, __dirname);
      case undefined:
      case '--help':
      case 'help':
        streams.stdout(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      streams.stderr(`cnn-lens: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    streams.stderr(`cnn-lens: ${(err as Error).message}\n`);
    return 1;
  }
}

// A reader that stops early (`| head`) closes stdout: stop as other command-line tools do, without a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(0);
});

const streams: Streams = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  ...(process.stderr.isTTY && {
    terminal: { columns: () => process.stderr.columns, term: process.env['TERM'] },
  }),
};
void main(process.argv.slice(2), streams).then((code) => {
  process.exitCode = code;
});
