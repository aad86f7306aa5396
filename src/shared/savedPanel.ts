// What the panel's page saves across a reload (its webview state), and the host's check of it: after
// Developer: Reload Window the host rebuilds its run from this, so that select, export, compare and explore
// work on the restored results. Kept small: no previews, no layer table, no exploration; the host sends
// those again. The page also keeps which two entries it compared (it asks again), the last quantize
// report (the host has no copy of it after a reload), the finished profile and fp32-against-int8 reports
// with the model they ran on, and which section's tab was open.
import type { AgreementState, ImageEntry, ProfileState, QuantizationState, QuantizeState } from './protocol';

/** The panel's sections, in the tab bar's order. */
export const SECTIONS = ['result', 'architecture', 'explain', 'compare', 'profile', 'quantization'] as const;
export type Section = (typeof SECTIONS)[number];

/** The saved state of the panel's page. */
export interface SavedPanel {
  version: typeof VERSION;
  /** The model the panel chose ('' for the built-in one, else its absolute path); absent: the setting's. */
  model?: string;
  /** The run's entries, without their previews. */
  results: ImageEntry[];
  /** Index into `results` of the current image. */
  current: number;
  /** Indices into `results` of the two images compared side by side. */
  compare?: [number, number];
  /** The last "Quantize with Images from this Folder" report; the page's own, the host never reads it. */
  quantize?: Extract<QuantizeState, { status: 'done' }>;
  /** The finished profile and fp32-against-int8 reports; the page's own, the host never reads them. */
  jobs?: SavedJobs;
  /** The section whose tab was open. */
  section?: Section;
}

type Done<S> = Extract<S, { status: 'done' }>;

/** Finished jobs that a reload brings back when the panel's model is still the one they ran on. */
export interface SavedJobs {
  /** The model's id (ModelView.id) they ran on. */
  model: string;
  profile?: Done<ProfileState>;
  quantization?: Done<QuantizationState>;
  agreement?: Done<AgreementState>;
}

const VERSION = 1;

/** Most entries a saved run may hold (a folder of this many images is far beyond what the panel shows). */
const MAX_ENTRIES = 100_000;

/** The state to save: the run's entries without previews, and the panel's own model choice. */
export function savedPanel(
  results: readonly ImageEntry[],
  current: number,
  model: string | undefined,
  sections: Pick<SavedPanel, 'compare' | 'quantize' | 'jobs' | 'section'> = {},
): SavedPanel {
  return {
    version: VERSION,
    ...(model !== undefined && { model }),
    results: results.map(withoutPreview),
    current,
    ...(sections.compare && { compare: sections.compare }),
    ...(sections.quantize && { quantize: sections.quantize }),
    ...(sections.jobs && { jobs: sections.jobs }),
    ...(sections.section && { section: sections.section }),
  };
}

/** A saved state as the host reads it back (it comes from the page's storage: checked, never trusted); undefined when it is not one. */
export function parseSavedPanel(state: unknown): SavedPanel | undefined {
  if (!isObject(state) || state.version !== VERSION) return undefined;
  const { model, results, current, compare, quantize, jobs, section } = state;
  if (model !== undefined && !isText(model, true)) return undefined;
  if (!Array.isArray(results) || results.length > MAX_ENTRIES || !results.every(isEntry)) return undefined;
  if (!Number.isInteger(current) || (current as number) < 0) return undefined;
  const index = results.length === 0 ? 0 : Math.min(current as number, results.length - 1);
  const finished = parseJobs(jobs);
  const pair =
    Array.isArray(compare) &&
    compare.length === 2 &&
    compare.every((i) => Number.isInteger(i) && i >= 0 && i < results.length) &&
    compare[0] !== compare[1]
      ? (compare as [number, number])
      : undefined;
  return {
    version: VERSION,
    ...(model !== undefined && { model }),
    results: results.map(withoutPreview),
    current: index,
    ...(pair && { compare: pair }),
    ...(isQuantizeReport(quantize) && { quantize }),
    ...(finished && { jobs: finished }),
    ...(SECTIONS.includes(section as Section) && { section: section as Section }),
  };
}

/** A saved quantize section in the shape its view reads (the page wrote it from a host message). */
function isQuantizeReport(q: unknown): q is Extract<QuantizeState, { status: 'done' }> {
  if (!isObject(q) || q.status !== 'done' || !isText(q.folder) || !isText(q.out) || !isText(q.model))
    return false;
  const r = q.report;
  return (
    typeof q.int8Active === 'boolean' &&
    isObject(r) &&
    Number.isInteger(r.quantized_nodes) &&
    isNumber(r.ms) &&
    Array.isArray(r.float_nodes) &&
    Array.isArray(r.held_out) &&
    Array.isArray(r.skipped) &&
    isObject(r.calibration) &&
    Array.isArray(r.calibration.images) &&
    isNumber(r.calibration.percentile) &&
    isObject(r.agreement)
  );
}

/** Saved finished jobs, each kept only in the shape its view reads; undefined when none is. */
function parseJobs(v: unknown): SavedJobs | undefined {
  if (!isObject(v) || !isText(v.model, true)) return undefined;
  const jobs: SavedJobs = { model: v.model };
  const { profile, quantization, agreement } = v;
  if (isDone(profile) && isProfile(profile.profile)) jobs.profile = profile as Done<ProfileState>;
  if (
    isDone(quantization) &&
    isText(quantization.file) &&
    isObject(quantization.report) &&
    ['rows', 'top_fp32', 'top_int8'].every((k) =>
      Array.isArray((quantization.report as Record<string, unknown>)[k]),
    )
  )
    jobs.quantization = quantization as Done<QuantizationState>;
  if (
    isDone(agreement) &&
    isObject(agreement.report) &&
    Number.isInteger(agreement.report.images) &&
    Array.isArray(agreement.report.changed) &&
    Array.isArray(agreement.failed) &&
    typeof agreement.cancelled === 'boolean'
  )
    jobs.agreement = agreement as Done<AgreementState>;
  return jobs.profile || jobs.quantization || jobs.agreement ? jobs : undefined;
}

function isDone(v: unknown): v is Record<string, unknown> {
  return isObject(v) && v.status === 'done';
}

function isProfile(p: unknown): boolean {
  return (
    isObject(p) &&
    isText(p.model) &&
    isNumber(p.ms) &&
    isNumber(p.peak_gflops) &&
    ['rows', 'blocks', 'stages', 'other'].every((k) => Array.isArray(p[k]))
  );
}

function withoutPreview(e: ImageEntry): ImageEntry {
  if ('error' in e) return e;
  const { preview, ...rest } = e;
  return rest;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isText(v: unknown, allowEmpty = false): v is string {
  return typeof v === 'string' && (allowEmpty || v.length > 0) && v.length <= 8192 && !v.includes('\0');
}

function isNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** A saved entry: a failure with its reason, or a result with its classes and timings. */
function isEntry(e: unknown): e is ImageEntry {
  if (!isObject(e) || !isText(e.file) || !isText(e.uri)) return false;
  if ('error' in e) return typeof e.error === 'string';
  const ms = e.ms;
  return (
    Array.isArray(e.top) &&
    e.top.length > 0 &&
    e.top.every(
      (p: unknown) =>
        isObject(p) && Number.isInteger(p.index) && typeof p.label === 'string' && isNumber(p.probability),
    ) &&
    typeof e.provider === 'string' &&
    (e.precision === undefined || e.precision === 'fp32' || e.precision === 'int8') &&
    isObject(ms) &&
    isNumber(ms.decode) &&
    isNumber(ms.run) &&
    isNumber(ms.total) &&
    Number.isInteger(e.width) &&
    Number.isInteger(e.height)
  );
}
