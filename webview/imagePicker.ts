// "Pick image…": a searchable list of the workspace's images; picking one makes it the panel's current image.
import { ListPicker } from './listPicker';
import { requests, vscode } from './vscodeApi';

export const imagePicker = new ListPicker({
  prefix: 'picker',
  toggleId: 'pick-image',
  toggleLabel: 'Pick image…',
  noun: 'images',
  request: () => requests.send({ type: 'listImages' }),
  pick: (item) => vscode.postMessage({ type: 'pick', file: item.id }),
});

/** Receives the workspace's image list from the host. */
export function setImages(files: string[], truncated: boolean): void {
  imagePicker.setItems(
    files.map((f) => ({ id: f, label: f })),
    truncated,
  );
}
