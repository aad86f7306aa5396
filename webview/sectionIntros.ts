// The top of the sections whose work starts from the panel: what the section shows, and the buttons that
// start it, so that no tab is a dead end before anything has run.
import * as l10n from '@vscode/l10n';
import { h } from './dom';
import { requestProfile } from './jobsView';
import { requests, vscode } from './vscodeApi';

/** A button that runs `action`. */
function button(id: string, label: string, action: () => void, title?: string): HTMLElement {
  const b = h('button', { type: 'button', id, ...(title && { title }) }, label);
  b.addEventListener('click', action);
  return b;
}

/** Explain, before an image has been explored. */
export function explainIntro(): HTMLElement {
  return h(
    'p',
    { id: 'explain-intro', class: 'hint' },
    l10n.t(
      'Classify an image (or pick one) to see where the model looks — class activation maps, Grad-CAM, occlusion — and the feature maps of any layer (click its row in Architecture).',
    ),
  );
}

/** Compare: other models beside this one; two images of a folder run side by side. */
export function compareIntro(): HTMLElement {
  return h(
    'div',
    { id: 'compare-intro', class: 'section-intro' },
    button('compare-models', l10n.t('Compare with other models…'), () =>
      vscode.postMessage({ type: 'command', command: 'compareArchitectures' }),
    ),
    h(
      'p',
      { class: 'hint' },
      l10n.t('To compare two images, tick them in the results of a folder run (Result) and choose Compare.'),
    ),
  );
}

/** Profile, before the first profile. */
export function profileIntro(): HTMLElement {
  return h(
    'div',
    { id: 'profile-intro', class: 'section-intro' },
    button(
      'profile-button',
      l10n.t('Profile'),
      requestProfile,
      l10n.t('Where the time goes: onnxruntime’s profile of the model'),
    ),
    h(
      'p',
      { class: 'hint' },
      l10n.t(
        'Where the time goes: onnxruntime’s profiler on the model, per layer, block and stage, in ms and against a reference convolution timed on this machine.',
      ),
    ),
  );
}

/** Quantization: the current image at fp32 and int8, and an int8 model made from a folder's images. */
export function quantizationIntro(): HTMLElement {
  return h(
    'div',
    { id: 'quantization-intro', class: 'section-intro' },
    button(
      'compare-precisions',
      l10n.t('fp32 vs int8 for this image'),
      () => requests.send({ type: 'compareQuantized' }),
      l10n.t('Run the current image at fp32 and at int8 and compare every layer’s output (SQNR, cosine)'),
    ),
    button('quantize-folder', l10n.t('Quantize with Images from a Folder…'), () =>
      vscode.postMessage({ type: 'command', command: 'quantizeFolder' }),
    ),
  );
}
