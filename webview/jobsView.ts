// The sections of the panel's long jobs: where the time goes (the profile), the current image at fp32 and
// int8, the run's images at both precisions, and quantizing the model with a folder's images. Each shows
// its progress with Cancel, its failure with "Show log", or its result.
import * as l10n from '@vscode/l10n';
import { percent } from '../src/shared/format';
import type { ClassScore } from '../src/shared/exploration';
import { REFERENCE_CONV, type Profile, type TimedRow } from '../src/shared/profile';
import {
  PROFILE_LIMITS,
  type AgreementState,
  type JobKind,
  type JobProgress,
  type JobStates,
  type ProfileState,
  type QuantizationState,
  type QuantizeState,
} from '../src/shared/protocol';
import type { AgreementReport } from '../src/shared/quantization';
import type { SavedJobs, SavedPanel } from '../src/shared/savedPanel';
import { focusLayer } from './architectureView';
import { h } from './dom';
import { agreementHeadline, msText, profilerOverhead, referenceFigure, slowestFirst } from './figures';
import { requests, vscode } from './vscodeApi';

/** Each section's last state from the host; absent: no section. */
const states: { [K in JobKind]?: JobStates[K] } = {};

/** View options that survive re-renders. */
const view = {
  level: 'rows' as 'rows' | 'blocks' | 'stages',
  showAll: false,
  batch: '1',
  runs: '10',
};

/** Rows shown before "Show all". */
const TOP_ROWS = 15;

/** What the webview does on a job's news beyond drawing it (the architecture table's columns). */
type Listener = () => void;

/** The last finished profile: it stays in view while another runs, or after one was cancelled or failed. */
let lastProfile: Profile | null = null;

/** Sets a section's state (null removes the section). */
export function setJobState<K extends JobKind>(job: K, state: JobStates[K] | null): void {
  if (state === null) delete states[job];
  else states[job] = state;
  if (job === 'profile') {
    const p = state as ProfileState | null;
    if (p === null) lastProfile = null;
    else if (p.status === 'done') lastProfile = p.profile;
  }
}

/** The finished jobs a reload brings back (what is running or failed is not kept). */
export function finishedJobs(): Omit<SavedJobs, 'model'> & { quantize?: SavedPanel['quantize'] } {
  const done = <S extends { status: string }>(
    s: S | undefined,
  ): Extract<S, { status: 'done' }> | undefined =>
    s?.status === 'done' ? (s as Extract<S, { status: 'done' }>) : undefined;
  return {
    ...(done(states.profile) && { profile: done(states.profile) }),
    ...(done(states.quantization) && { quantization: done(states.quantization) }),
    ...(done(states.agreement) && { agreement: done(states.agreement) }),
    ...(done(states.quantize) && { quantize: done(states.quantize) }),
  };
}

/** Whether a job has a section (a state from the host that was not closed). */
export function hasJob(job: JobKind): boolean {
  return states[job] !== undefined;
}

/** The profile the table's Time column shows, when there is one. */
export function currentProfile(): Profile | null {
  return lastProfile;
}

/** The fp32/int8 report the table's int8 column shows, when it is for `file` (the current image). */
export function currentQuantization(file: string | undefined): QuantizationState | undefined {
  const q = states.quantization;
  return q && q.file === file ? q : undefined;
}

/** The form's last valid batch and runs. */
const valid = { batch: 1, runs: 10 };

/**
 * Starts a profile with the form's batch and runs (the toolbar's "Profile" button too, which uses the last
 * valid ones while the form holds a bad value; the value typed stays for the user to fix).
 */
export function requestProfile(): void {
  const batch = Number(view.batch);
  const runs = Number(view.runs);
  if (profileProblems(batch, runs).length === 0) Object.assign(valid, { batch, runs });
  requests.send({ type: 'profile', ...valid });
}

/** The sections of `jobs` that have a state, in a fixed order. */
export function jobSections(
  jobs: readonly JobKind[],
  rerender: Listener,
  select: (file: string) => void,
): HTMLElement[] {
  const has = (job: JobKind): boolean => jobs.includes(job);
  const out: (HTMLElement | false | undefined)[] = [
    has('quantize') && states.quantize && quantizeSection(states.quantize, rerender),
    has('agreement') && states.agreement && agreementSection(states.agreement, rerender, select),
    has('quantization') && states.quantization && quantizationSection(states.quantization, rerender),
    has('profile') && states.profile && profileSection(states.profile, rerender),
  ];
  return out.filter((e): e is HTMLElement => e instanceof HTMLElement);
}

/** A section with a heading, a Close button (which also cancels) and its body. */
function section(
  job: JobKind,
  title: string,
  rerender: Listener,
  ...body: (Node | undefined)[]
): HTMLElement {
  const close = h(
    'button',
    { type: 'button', class: 'close', id: `${job}-close`, 'aria-label': l10n.t('Close {0}', title) },
    l10n.t('Close'),
  );
  close.addEventListener('click', () => {
    if (states[job]?.status === 'running' || job === 'quantization')
      vscode.postMessage({ type: 'cancelJob', job });
    delete states[job];
    rerender();
  });
  return h(
    'section',
    { id: job, class: 'job', 'aria-labelledby': `${job}-title` },
    h('div', { class: 'section-head' }, h('h2', { id: `${job}-title` }, title), close),
    ...body,
  );
}

/** Progress with Cancel, a failure with "Show log" (and the quantize action when the int8 file is missing). */
function progressView(job: JobKind, p: JobProgress): HTMLElement {
  if (p.status === 'running') {
    const cancel = h('button', { type: 'button', id: `${job}-cancel` }, l10n.t('Cancel'));
    cancel.addEventListener('click', () => vscode.postMessage({ type: 'cancelJob', job }));
    const bar =
      p.fraction === undefined
        ? undefined
        : h('progress', {
            id: `${job}-progress`,
            max: '1',
            value: String(p.fraction),
            'aria-label': l10n.t('progress'),
          });
    return h(
      'div',
      { class: 'job-status' },
      h('p', { class: 'busy', role: 'status' }, p.message),
      bar,
      cancel,
    );
  }
  if (p.status === 'cancelled') return h('p', { class: 'muted', role: 'status' }, p.message);
  const log = h('button', { type: 'button' }, l10n.t('Show log'));
  log.addEventListener('click', () => vscode.postMessage({ type: 'command', command: 'showLog' }));
  const quantize = p.offerQuantize
    ? h('button', { type: 'button', class: 'primary' }, l10n.t('Quantize with Images from a Folder…'))
    : undefined;
  quantize?.addEventListener('click', () =>
    vscode.postMessage({ type: 'command', command: 'quantizeFolder' }),
  );
  return h(
    'div',
    { class: 'error', role: 'alert' },
    h('p', {}, p.message),
    h('p', {}, quantize ?? '', quantize ? ' ' : '', log),
  );
}

// ---- Profile ------------------------------------------------------------------------------------------

/** Why the form's batch and runs cannot be used, one line each, with the field it is about. */
function profileProblems(batch: number, runs: number): { key: 'batch' | 'runs'; text: string }[] {
  const out: { key: 'batch' | 'runs'; text: string }[] = [];
  if (!Number.isInteger(batch) || batch < 1 || batch > PROFILE_LIMITS.batch)
    out.push({
      key: 'batch',
      text: l10n.t('Batch must be a whole number from 1 to {0}', PROFILE_LIMITS.batch),
    });
  if (!Number.isInteger(runs) || runs < 1 || runs > PROFILE_LIMITS.runs)
    out.push({ key: 'runs', text: l10n.t('Runs must be a whole number from 1 to {0}', PROFILE_LIMITS.runs) });
  return out;
}

function profileSection(state: ProfileState, rerender: Listener): HTMLElement {
  const shown = lastProfile;
  const title = shown ? l10n.t('Where the time goes · {0}', shown.model) : l10n.t('Where the time goes');
  return section(
    'profile',
    title,
    rerender,
    state.status === 'done' ? undefined : progressView('profile', state),
    profileForm(rerender, state.status === 'running'),
    shown ? profileResult(shown, rerender, state.status !== 'done') : undefined,
  );
}

/** Batch and runs, validated as typed (the values stay as typed), and "Profile again". */
function profileForm(rerender: Listener, running: boolean): HTMLElement {
  const problems = profileProblems(Number(view.batch), Number(view.runs));
  const field = (key: 'batch' | 'runs', label: string, max: number): HTMLElement => {
    const bad = problems.some((p) => p.key === key);
    const input = h('input', {
      type: 'number',
      id: `profile-${key}`,
      min: '1',
      max: String(max),
      step: '1',
      value: view[key],
      'aria-invalid': String(bad),
      'aria-describedby': 'profile-problems',
    }) as HTMLInputElement;
    input.addEventListener('input', () => {
      view[key] = input.value;
      rerender();
    });
    return h('label', { class: 'pp-field' }, h('span', {}, label), input);
  };
  const run = h(
    'button',
    { type: 'button', id: 'profile-run', class: 'primary' },
    l10n.t('Profile again'),
  ) as HTMLButtonElement;
  run.disabled = problems.length > 0 || running;
  run.addEventListener('click', requestProfile);
  return h(
    'div',
    { class: 'profile-form' },
    field('batch', l10n.t('Batch'), PROFILE_LIMITS.batch),
    field('runs', l10n.t('Runs'), PROFILE_LIMITS.runs),
    run,
    h(
      'ul',
      { id: 'profile-problems', class: 'pp-problems error-text', 'aria-live': 'polite' },
      ...problems.map((p) => h('li', {}, p.text)),
    ),
  );
}

const LEVELS = ['rows', 'blocks', 'stages'] as const;

/** A grouping of the profile's times: its button, the table's column and the table's label. */
function levelText(level: (typeof LEVELS)[number]): { button: string; column: string; table: string } {
  switch (level) {
    case 'rows':
      return {
        button: l10n.t('Layers'),
        column: l10n.t('Layer'),
        table: l10n.t('Time per layer, slowest first'),
      };
    case 'blocks':
      return {
        button: l10n.t('Blocks'),
        column: l10n.t('Block'),
        table: l10n.t('Time per block, slowest first'),
      };
    case 'stages':
      return {
        button: l10n.t('Stages'),
        column: l10n.t('Stage'),
        table: l10n.t('Time per stage, slowest first'),
      };
  }
}

/** The profile's figures; `previous`: a newer profile is running, was cancelled or failed. */
function profileResult(p: Profile, rerender: Listener, previous: boolean): HTMLElement {
  const overhead = profilerOverhead(p);
  const summary = h(
    'p',
    { id: 'profile-summary' },
    h('strong', {}, `${msText(p.ms)} ms`),
    ` ${l10n.t('per run of batch {0} (median of {1} profiled runs) · plain run {2} ms', p.batch, p.runs, msText(p.plain_ms))}`,
    overhead !== null
      ? ` ${l10n.t('(profiler {0})', `${overhead >= 0 ? '+' : '−'}${percent(Math.abs(overhead), 0)}`)}`
      : '',
    ` · ${p.provider} · ${p.precision} · ${l10n.t('reference {0} GFLOP/s', p.peak_gflops.toFixed(0))}`,
    h(
      'span',
      { class: 'muted' },
      ` ${l10n.t('(one large convolution timed on this machine: a yardstick, not its limit; a layer as fast or faster shows “≥ ref”)')}`,
    ),
  );
  const levels = h('div', { role: 'radiogroup', 'aria-label': l10n.t('Group times by'), class: 'segmented' });
  for (const level of LEVELS) {
    const b = h(
      'button',
      {
        type: 'button',
        role: 'radio',
        'aria-checked': String(view.level === level),
        id: `profile-level-${level}`,
      },
      levelText(level).button,
    );
    b.addEventListener('click', () => {
      view.level = level;
      view.showAll = false;
      rerender();
      document.getElementById(`profile-level-${level}`)?.focus();
    });
    // Arrow keys move between the options, as in a radio group.
    b.addEventListener('keydown', (e) => {
      const i = LEVELS.indexOf(level);
      const step =
        e.key === 'ArrowRight' || e.key === 'ArrowDown'
          ? 1
          : e.key === 'ArrowLeft' || e.key === 'ArrowUp'
            ? -1
            : 0;
      if (!step) return;
      e.preventDefault();
      const next = LEVELS[(i + step + LEVELS.length) % LEVELS.length];
      if (!next) return;
      view.level = next;
      view.showAll = false;
      rerender();
      document.getElementById(`profile-level-${view.level}`)?.focus();
    });
    levels.append(b);
  }
  const rows = slowestFirst(p[view.level]);
  const shown = view.showAll ? rows : rows.slice(0, TOP_ROWS);
  const peak = p.peak_gflops;
  const table = h(
    'table',
    {
      id: 'profile-table',
      'aria-label': levelText(view.level).table,
    },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, '#'),
        h('th', { scope: 'col' }, levelText(view.level).column),
        h('th', { scope: 'col', class: 'num' }, 'ms'),
        h('th', { scope: 'col' }, l10n.t('Share')),
        h(
          'th',
          {
            scope: 'col',
            title: l10n.t(
              "achieved GFLOP/s, and its share of the reference convolution's {0} GFLOP/s ({1})",
              peak.toFixed(0),
              REFERENCE_CONV,
            ),
          },
          'GFLOP/s',
        ),
        h('th', { scope: 'col' }, l10n.t('Provider')),
      ),
    ),
    h('tbody', {}, ...shown.map((r, i) => profileRow(r, i, peak))),
  );
  const more =
    rows.length > TOP_ROWS
      ? h(
          'button',
          { type: 'button', id: 'profile-more' },
          view.showAll ? l10n.t('Show the top {0}', TOP_ROWS) : l10n.t('Show all {0}', rows.length),
        )
      : undefined;
  more?.addEventListener('click', () => {
    view.showAll = !view.showAll;
    rerender();
    document.getElementById('profile-more')?.focus();
  });
  const other = p.other.reduce((sum, k) => sum + k.ms, 0);
  return h(
    'div',
    { class: previous ? 'previous' : '' },
    previous ? h('p', { class: 'muted' }, l10n.t('The last finished profile:')) : undefined,
    summary,
    levels,
    h('div', { class: 'table-wrap' }, table),
    more,
    p.other.length > 0
      ? h(
          'p',
          {
            id: 'profile-other',
            class: 'muted',
            title: p.other.map((k) => `${k.name} (${k.op}): ${msText(k.ms)} ms`).join('\n'),
          },
          p.other.length === 1
            ? l10n.t(
                "Outside the table's rows: {0} ms in {1} kernel (layout conversions and the like).",
                msText(other),
                p.other.length,
              )
            : l10n.t(
                "Outside the table's rows: {0} ms in {1} kernels (layout conversions and the like).",
                msText(other),
                p.other.length,
              ),
        )
      : undefined,
    h(
      'p',
      { class: 'muted' },
      l10n.t(
        'The architecture table’s Time column shows these times per layer, block and stage. Select a name to find it there.',
      ),
    ),
  );
}

function bar(value: number, cls: string): HTMLElement {
  const b = h('span', { class: `bar ${cls}`, 'aria-hidden': 'true' });
  b.style.setProperty('--p', String(Math.max(0, Math.min(1, value))));
  return b;
}

function profileRow(r: TimedRow, i: number, peak: number): HTMLElement {
  const link = h(
    'button',
    { type: 'button', class: 'link', title: l10n.t('Find it in the architecture table') },
    r.name,
  );
  link.addEventListener('click', () => focusLayer(r.name));
  const ref = referenceFigure(r.gflops, peak);
  return h(
    'tr',
    { 'data-name': r.name },
    h('td', { class: 'num muted' }, String(i + 1)),
    h('td', {}, link),
    h('td', { class: 'num' }, msText(r.ms)),
    h('td', { class: 'share' }, bar(r.share, 'time'), ` ${percent(r.share)}`),
    h(
      'td',
      { class: 'share' },
      r.gflops === null ? h('span', { class: 'muted' }, l10n.t('no multiply-adds')) : '',
      r.gflops !== null && ref !== null ? bar(ref.bar, 'rate') : '',
      r.gflops !== null ? ` ${r.gflops.toFixed(1)}${ref !== null ? ` (${ref.text})` : ''}` : '',
    ),
    h(
      'td',
      {},
      r.provider.replace(/ExecutionProvider$/, ''),
      r.fallback
        ? h(
            'span',
            { class: 'badge fallback', title: l10n.t('the session runs on a GPU, but this ran on the CPU') },
            l10n.t('CPU fallback'),
          )
        : '',
    ),
  );
}

// ---- fp32 vs int8 for the current image ---------------------------------------------------------------

function quantizationSection(state: QuantizationState, rerender: Listener): HTMLElement {
  const title = state.file ? l10n.t('fp32 vs int8 · {0}', state.file) : l10n.t('fp32 vs int8');
  if (state.status !== 'done')
    return section('quantization', title, rerender, progressView('quantization', state));
  const r = state.report;
  const main = r.rows.filter((row) => row.sqnr_db !== null || row.cosine !== null);
  const last = [...main].reverse().find((row) => !row.missing);
  const jumps = r.rows.filter((row) => row.jump);
  const same = r.top_fp32[0]?.index === r.top_int8[0]?.index;
  const top = (label: string, list: ClassScore[]): HTMLElement =>
    h(
      'div',
      { class: 'compare-side' },
      h('h3', {}, label),
      h('ol', {}, ...list.map((c) => h('li', {}, `${c.label} ${percent(c.probability)}`))),
    );
  return section(
    'quantization',
    title,
    rerender,
    h(
      'p',
      { id: 'quantization-summary' },
      same
        ? l10n.t('Same top-1 class at both precisions')
        : h('strong', {}, l10n.t('The top-1 class changes with int8')),
      last
        ? ` · ${l10n.t(
            'last layer {0}',
            last.sqnr_db === null ? l10n.t('identical') : l10n.t('{0} dB SQNR', last.sqnr_db.toFixed(1)),
          )}${last.cosine !== null ? `, ${l10n.t('cosine {0}', last.cosine.toFixed(4))}` : ''}`
        : '',
      ` · ${r.provider}`,
    ),
    // One run each with every row's output exposed says nothing of speed (README: 0.47× measured warm).
    h(
      'p',
      { class: 'muted', id: 'quantization-timing' },
      l10n.t(
        'No timings here: each precision ran this image once, with every layer’s output kept, which says nothing about its speed. To compare speed, profile the model at each precision: warm, the same batch, the median of several runs.',
      ),
    ),
    h('div', { class: 'compare-sides' }, top('fp32', r.top_fp32), top('int8', r.top_int8)),
    jumps.length > 0
      ? h(
          'p',
          { id: 'quantization-jumps' },
          `${
            jumps.length === 1
              ? l10n.t(
                  'The error jumps (SQNR down by more than 6 dB from the row before) at {0} row:',
                  jumps.length,
                )
              : l10n.t(
                  'The error jumps (SQNR down by more than 6 dB from the row before) at {0} rows:',
                  jumps.length,
                )
          } `,
          ...jumps.flatMap((j, i) => {
            const b = h('button', { type: 'button', class: 'link' }, j.name);
            b.addEventListener('click', () => focusLayer(j.name));
            return i > 0 ? [', ', b] : [b];
          }),
        )
      : h('p', { id: 'quantization-jumps', class: 'muted' }, l10n.t('No row where the error jumps.')),
    h(
      'p',
      { class: 'muted' },
      l10n.t(
        'Each layer’s SQNR and cosine are in the architecture table’s “int8 error” column (higher is closer to fp32); this follows the current image until closed.',
      ),
    ),
  );
}

// ---- fp32 vs int8 over the run ------------------------------------------------------------------------

/** "97.5 % top-1 agreement (39 of 40) · mean |Δp| 0.012" and the images that changed class. */
function agreementBody(a: AgreementReport, select: ((file: string) => void) | undefined): HTMLElement[] {
  const headline = agreementHeadline(a);
  const changed = a.changed.map((c) => {
    const name = select
      ? h('button', { type: 'button', class: 'link', title: l10n.t('Make it the current image') }, c.name)
      : h('span', {}, c.name);
    name.addEventListener('click', () => select?.(c.name));
    return h(
      'li',
      {},
      name,
      `: ${c.fp32.label} ${percent(c.fp32.probability)} → ${c.int8.label} ${percent(c.int8.probability)}`,
    );
  });
  return [
    h(
      'p',
      { class: 'agreement-figures' },
      h('strong', {}, headline.headline),
      headline.count ? ` ${headline.count}` : '',
      a.mean_abs_dp !== null
        ? ` · ${l10n.t('mean |Δp| of fp32’s top class {0}', a.mean_abs_dp.toFixed(4))}`
        : '',
      a.dp_bounded > 0
        ? h(
            'span',
            { class: 'muted' },
            ` ${
              a.dp_bounded === 1
                ? l10n.t(
                    '(an upper bound: for {0} image fp32’s class fell outside int8’s top list)',
                    a.dp_bounded,
                  )
                : l10n.t(
                    '(an upper bound: for {0} images fp32’s class fell outside int8’s top list)',
                    a.dp_bounded,
                  )
            }`,
          )
        : '',
    ),
    changed.length > 0
      ? h(
          'div',
          {},
          h('h3', {}, l10n.t('Changed class ({0})', changed.length)),
          h('ul', { class: 'changed' }, ...changed),
        )
      : h('p', { class: 'muted' }, l10n.t('No image changed class.')),
  ];
}

function agreementSection(
  state: AgreementState,
  rerender: Listener,
  select: (file: string) => void,
): HTMLElement {
  const title = l10n.t('fp32 vs int8 · this run’s images');
  if (state.status !== 'done') return section('agreement', title, rerender, progressView('agreement', state));
  return section(
    'agreement',
    title,
    rerender,
    ...agreementBody(state.report, select),
    state.failed.length > 0
      ? h(
          'p',
          { class: 'error-text' },
          l10n.t('Not compared: {0}', state.failed.map((f) => `${f.file} (${f.error})`).join('; ')),
        )
      : undefined,
    state.cancelled
      ? h('p', { class: 'muted' }, l10n.t('Cancelled: the figures cover the images that finished.'))
      : undefined,
  );
}

// ---- Quantize with a folder's images ------------------------------------------------------------------

function quantizeSection(state: QuantizeState, rerender: Listener): HTMLElement {
  const title =
    state.status === 'done'
      ? l10n.t('Quantized {0} with {1}', state.model, state.folder)
      : l10n.t('Quantizing with {0}', state.folder);
  if (state.status !== 'done') return section('quantize', title, rerender, progressView('quantize', state));
  const r = state.report;
  const switchButton = h(
    'button',
    { type: 'button', id: 'quantize-switch', class: 'primary' },
    l10n.t('Switch to int8'),
  );
  switchButton.addEventListener('click', () =>
    vscode.postMessage({ type: 'setPrecision', precision: 'int8' }),
  );
  return section(
    'quantize',
    title,
    rerender,
    h(
      'p',
      { id: 'quantize-summary' },
      l10n.t('Wrote {0}: {1} nodes in int8', state.out, r.quantized_nodes),
      r.float_nodes.length > 0 ? `, ${l10n.t('left in float: {0}', r.float_nodes.join(', '))}` : '',
      `. ${
        r.calibration.images.length === 1
          ? l10n.t(
              'Calibrated on {0} image (activation ranges keep {1} of the values), in {2} s.',
              r.calibration.images.length,
              percent(r.calibration.percentile / 100, 3),
              (r.ms / 1000).toFixed(1),
            )
          : l10n.t(
              'Calibrated on {0} images (activation ranges keep {1} of the values), in {2} s.',
              r.calibration.images.length,
              percent(r.calibration.percentile / 100, 3),
              (r.ms / 1000).toFixed(1),
            )
      }`,
    ),
    r.held_out.length > 0
      ? h(
          'h3',
          {},
          r.held_out.length === 1
            ? l10n.t('fp32 vs int8 on the {0} held-back image', r.held_out.length)
            : l10n.t('fp32 vs int8 on the {0} held-back images', r.held_out.length),
        )
      : h(
          'p',
          { class: 'notice' },
          l10n.t(
            'No image was held back from calibration, so nothing checks the int8 model: quantize with more images.',
          ),
        ),
    ...(r.held_out.length > 0 ? agreementBody(r.agreement, undefined) : []),
    r.skipped.length > 0
      ? h(
          'p',
          { class: 'error-text' },
          l10n.t(
            'Skipped (could not be decoded): {0}',
            r.skipped.map((s) => `${s.name} (${s.reason})`).join('; '),
          ),
        )
      : undefined,
    state.int8Active
      ? h('p', { class: 'muted' }, l10n.t('The panel runs int8: it uses the new model now.'))
      : h(
          'p',
          {},
          switchButton,
          h('span', { class: 'muted' }, ` ${l10n.t('sets cnnLens.precision to int8.')}`),
        ),
  );
}
