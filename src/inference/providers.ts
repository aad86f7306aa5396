// Which onnxruntime execution providers to try, in order, for a provider setting on this platform.

/** The execution provider setting (cnnLens.executionProvider / the CLI's --provider). */
export type ProviderSetting = 'auto' | 'cpu' | 'cuda' | 'dml' | 'coreml' | 'webgpu';

export const PROVIDER_SETTINGS: readonly ProviderSetting[] = [
  'auto',
  'cpu',
  'cuda',
  'dml',
  'coreml',
  'webgpu',
];

/** What the platform offers, as far as we can tell without loading anything. */
export interface PlatformInfo {
  platform: NodeJS.Platform;
  arch: string;
  /** Whether onnxruntime-node's CUDA provider library is installed (its install script fetched it). */
  cudaInstalled: boolean;
}

/**
 * Providers to try, best first; CPU always ends the list. `auto` prefers a GPU: WebGPU where
 * onnxruntime-node ships it (Windows, macOS, Linux x64), then DirectML / CoreML, CUDA only when its
 * libraries are present. An explicit choice is tried alone before falling back to CPU.
 */
export function providerCandidates(
  setting: ProviderSetting,
  p: PlatformInfo,
): Exclude<ProviderSetting, 'auto'>[] {
  if (setting === 'cpu') return ['cpu'];
  if (setting !== 'auto') return [setting, 'cpu'];
  const list: Exclude<ProviderSetting, 'auto'>[] = [];
  if (p.cudaInstalled && (p.platform === 'linux' || p.platform === 'win32')) list.push('cuda');
  if (p.platform === 'win32' || p.platform === 'darwin' || (p.platform === 'linux' && p.arch === 'x64')) {
    list.push('webgpu');
  }
  if (p.platform === 'win32') list.push('dml');
  if (p.platform === 'darwin') list.push('coreml');
  list.push('cpu');
  return list;
}
