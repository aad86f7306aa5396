// A detector's or segmenter's answer as the panel's message carries it: JSON-safe (the class map as base64),
// so that the webview can keep it across reloads.
import type { FoundView } from '../../shared/protocol';
import type { TaskAnswer } from '../../shared/tasks';

/** The panel's view of one image's answer; `labels` name the classes in the legend. */
export function foundView(r: TaskAnswer, labels: string[]): FoundView {
  const map = r.map && {
    width: r.map.width,
    height: r.map.height,
    base64: Buffer.from(r.map.data).toString('base64'),
  };
  if (r.task === 'segment') {
    return { task: 'segment', detections: [], candidates: [], classes: r.classes, map, labels };
  }
  return {
    task: r.task,
    detections: r.detections,
    candidates: r.boxes ?? [],
    thresholds: r.thresholds,
    ...(map && { map }),
    labels,
  };
}
