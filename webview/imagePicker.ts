// "Pick image…": a searchable list of the workspace's images; picking one makes it the panel's current image.
import * as l10n from '@vscode/l10n';
import { ListPicker } from './listPicker';
import { requests, vscode } from './vscodeApi';

export const imagePicker = new ListPicker({
  prefix: 'picker',
  toggleId: 'pick-image',
  texts: () => ({
    toggle: l10n.t('Pick image…'),
    search: l10n.t('Search images'),
    list: l10n.t('images'),
    looking: l10n.t('Looking for images…'),
    count: (matches, total) => l10n.t('{0} of {1} images', matches, total),
  }),
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
