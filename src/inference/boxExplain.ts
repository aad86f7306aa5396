// Grad-CAM of one detection (YOLOv8-style heads): the gradient of its class logit — the head's class
// convolution at the detection's scale, at its anchor's cell, before the sigmoid — with respect to the neck
// output that head scale reads, weighted over that output's channels (Selvaraju et al. 2017). Worker-side.
import type { LayerRow } from '../shared/layerTable';
import type { BoxMap, Task } from '../shared/tasks';
import type { TaskRun } from './exploration';
import { layerMap } from './exploration';
import { gradCamMap, meanGradient } from './gradCam';
import type { GradientModels } from './gradients';
import { ModelError } from './session';
import { anchorCell } from './taskDecode';

/** Which detection: the anchor it came from and its class. */
export interface BoxTarget {
  anchor: number;
  index: number;
}

/**
 * The rows a box's Grad-CAM needs: the class convolution of its head scale (output [1, classes, side,
 * side]) and the neck's last output at that resolution (what the head reads), else the backbone's.
 */
function rowsFor(
  table: LayerRow[],
  task: Task,
  stride: number,
  side: number,
): { target: LayerRow; from: LayerRow } {
  const at = (r: LayerRow): boolean => r.out_shape?.[2] === side && r.out_shape?.[3] === side;
  const target = table
    .filter((r) => r.stage === 'head' && r.op === 'Conv' && r.out_shape?.[1] === task.classes && at(r))
    .pop();
  const from =
    table.filter((r) => r.stage === 'neck' && at(r)).pop() ??
    table.filter((r) => r.stage === 'backbone' && at(r)).pop();
  if (!target || !from) {
    throw new ModelError(
      `no class convolution of ${task.classes} channels at stride ${stride} in the head: Grad-CAM of a box needs ` +
        'a YOLOv8-style head (one class map per scale)',
    );
  }
  return { target, from };
}

/** Grad-CAM of one detection over the image, at the neck output its head scale reads. */
export async function boxGradCam(run: TaskRun, gradients: GradientModels, box: BoxTarget): Promise<BoxMap> {
  const task = run.descriptor.task;
  if (!task || task.head !== 'anchors-last' || !task.strides) {
    throw new ModelError(
      'Grad-CAM of a box is for YOLOv8-style detectors (boxes and class scores per anchor)',
    );
  }
  const cell = anchorCell(box.anchor, task.strides, run.frame.inputWidth);
  if (!cell) throw new ModelError(`anchor ${box.anchor} is outside the model's head scales`);
  const { target, from } = rowsFor(run.table.rows, task, cell.stride, cell.side);
  const a = run.activation(from.name);
  if (!a || a.dims.length !== 4) throw new ModelError(`the output of ${from.name} was not kept`);
  const [, channels, height, width] = a.dims as [number, number, number, number];
  const index = (box.index * cell.side + cell.y) * cell.side + cell.x;
  const gradient = await gradients.gradientAt(
    run.descriptor,
    from.output,
    target.output,
    run.provider,
    { features: a.data, dims: a.dims },
    index,
  );
  if ('unsupported' in gradient) throw new ModelError(`Grad-CAM of the box: ${gradient.unsupported}`);
  const raw = gradCamMap(a.data, meanGradient(gradient, channels));
  return { ...layerMap(from, raw, width, height, run.frame), target: target.name };
}
