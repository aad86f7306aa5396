// The CNN Lens command line: the same core as the extension, no 'vscode'.
import * as path from 'node:path';
import { UsageError } from './cli/args';
import { runClassify } from './cli/classify';
import { runCompare } from './cli/compare';
import { runExplain } from './cli/explain';
import type { Io } from './cli/io';
import { runLayers } from './cli/layers';

const USAGE = `usage: node dist/cli.js <command> [options]

  classify [--top K] [--json] [--provider auto|cpu|webgpu|cuda|dml|coreml] [--batch N] [--threads N]
           [--max-pixels N] [--model file.onnx [--preprocessing torchvision|caffe|tf|raw]] <image|folder…>
      Top-K classes per image (folders: recursive, image files only). The default model is the built-in
      ResNet50; --model takes any image classifier with an [N, 3, H, W] input (its size sets the crop)
      and an [N, classes] output. Its <model>.json beside it, if any, sets preprocessing and labels;
      otherwise --preprocessing does (default torchvision), with ImageNet labels for 1000 classes.
      Exit code 1 when any file failed; its entry says why.

  explain [--json] [--layer NAME] [--top K] [--provider P] [--model file.onnx …] <image>
      Per-layer activation statistics and class activation maps (0…1) of the top-5 classes, or one
      class-agnostic EigenCAM map when the model's head has no global pool → fc for CAM;
      --layer adds that layer's 16 strongest channels.

  layers [--json|--markdown] [--model file.onnx]
      The layer table (stages, blocks, kernels, strides, shapes, parameters, multiply-adds) of any
      ONNX model; shapes static inference cannot decide are measured by one onnxruntime run.

  compare [--json] [--runs N] [--no-timing] [--provider P] [--threads N] <model.onnx…>
      Models side by side: family, depth, parameters, buffers, multiply-adds, stages, blocks, and the
      median ms per image at batch 1 and 8 on this machine (N runs, default 10). Model files only
      (the built-in one is models/resnet50.onnx). Exit code 1 when any model failed; its entry says why.
`;

async function main(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'classify':
        return await runClassify(rest, io, __dirname);
      case 'explain':
        return await runExplain(rest, io, __dirname);
      case 'layers':
        return await runLayers(rest, io, path.join(__dirname, '..', 'models', 'resnet50.onnx'));
      case 'compare':
        return await runCompare(rest, io, __dirname);
      case undefined:
      case '--help':
      case 'help':
        io.stdout(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`cnn-lens: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    io.stderr(`cnn-lens: ${(err as Error).message}\n`);
    return 1;
  }
}

const io: Io = { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) };
void main(process.argv.slice(2), io).then((code) => {
  process.exitCode = code;
});
