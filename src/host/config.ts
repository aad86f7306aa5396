// The one typed reader of CNN Lens settings. Every key here is declared in package.json with the same
// default; an in-host test checks that both agree.
import * as vscode from 'vscode';
import { DEFAULT_BATCH } from '../inference/classifyAll';
import { PROVIDER_SETTINGS, type ProviderSetting } from '../inference/providers';
import { PRESET_NAMES, type PresetName } from '../shared/preprocessing';
import { PRECISIONS, type Precision } from '../shared/quantization';

/** CNN Lens settings, keyed as in package.json without the `cnnLens.` prefix. */
export interface Settings {
  executionProvider: ProviderSetting;
  threads: number;
  batchSize: number;
  topK: number;
  maxPixels: number;
  modelPath: string;
  modelPreprocessing: PresetName;
  followActiveImage: boolean;
  precision: Precision;
  'detection.confidence': number;
  'detection.iou': number;
  pythonPath: string;
}

/** Defaults, identical to package.json's. */
export const DEFAULTS: Settings = {
  executionProvider: 'auto',
  threads: 0,
  batchSize: DEFAULT_BATCH,
  topK: 5,
  maxPixels: 100_000_000,
  modelPath: '',
  modelPreprocessing: 'torchvision',
  followActiveImage: true,
  precision: 'fp32',
  'detection.confidence': 0.25,
  'detection.iou': 0.7,
  pythonPath: '',
};

/** Reads the settings, replacing out-of-range values with defaults. */
export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration('cnnLens');
  const int = (key: keyof Settings, min: number, max: number): number => {
    const v = c.get<number>(key, DEFAULTS[key] as number);
    return Number.isInteger(v) && v >= min && v <= max ? v : (DEFAULTS[key] as number);
  };
  const fraction = (key: keyof Settings): number => {
    const v = c.get<number>(key, DEFAULTS[key] as number);
    return typeof v === 'number' && v >= 0 && v <= 1 ? v : (DEFAULTS[key] as number);
  };
  const provider = c.get<string>('executionProvider', DEFAULTS.executionProvider);
  const preprocessing = c.get<string>('modelPreprocessing', DEFAULTS.modelPreprocessing);
  const precision = c.get<string>('precision', DEFAULTS.precision);
  return {
    executionProvider: PROVIDER_SETTINGS.includes(provider as ProviderSetting)
      ? (provider as ProviderSetting)
      : DEFAULTS.executionProvider,
    threads: int('threads', 0, 256),
    batchSize: int('batchSize', 1, 64),
    topK: int('topK', 1, 20),
    maxPixels: int('maxPixels', 1, Number.MAX_SAFE_INTEGER),
    modelPath: c.get<string>('modelPath', DEFAULTS.modelPath).trim(),
    modelPreprocessing: PRESET_NAMES.includes(preprocessing as PresetName)
      ? (preprocessing as PresetName)
      : DEFAULTS.modelPreprocessing,
    followActiveImage: c.get<boolean>('followActiveImage', DEFAULTS.followActiveImage) !== false,
    precision: PRECISIONS.includes(precision as Precision) ? (precision as Precision) : DEFAULTS.precision,
    'detection.confidence': fraction('detection.confidence'),
    'detection.iou': fraction('detection.iou'),
    pythonPath: String(c.get<string>('pythonPath', DEFAULTS.pythonPath) ?? '').trim(),
  };
}
