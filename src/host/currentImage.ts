// The panel's current image: explored once per content and model (cached), re-explored when the file
// changes on disk, and the source of feature maps.
import { webcrypto } from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { InferenceClient } from '../inference/client';
import type { WorkerConfig } from '../inference/messages';
import type { Exploration, FeatureMaps } from '../shared/exploration';
import type { ExplorationView } from '../shared/protocol';
import type { Precision } from '../shared/quantization';
import { Disposable } from './disposable';
import { jpegDataUrl } from './panel/dataUrl';

/** The model an exploration ran: its file and the precision it ran at. */
export interface ModelKey {
  path: string;
  precision: Precision;
}

/** Names a model and the precision it runs at, for the cache. */
export function modelKey(config: WorkerConfig): ModelKey {
  return { path: config.descriptor.modelPath, precision: config.precision ?? 'fp32' };
}

const CACHE_SIZE = 32;

/** Where explorations go: the panel. */
export interface ExplorationSink {
  showExploration(file: string, view: ExplorationView): void;
  showExplorationError(file: string, message: string): void;
}

/** Explores the current image and keeps what the feature-map requests need. */
export class CurrentImage extends Disposable {
  private readonly cache = new Map<string, Exploration>();
  private current: { uri: vscode.Uri; file: string; key: string } | undefined;
  private watcher: vscode.Disposable | undefined;
  private generation = 0;

  constructor(
    private readonly sink: ExplorationSink,
    private readonly read: (uri: vscode.Uri) => Promise<Uint8Array>,
  ) {
    super();
    this._register({ dispose: () => this.watcher?.dispose() });
  }

  /** Explores `uri` (shown as `file`) with `client` and sends the result to the panel. */
  async explore(
    client: InferenceClient,
    model: ModelKey,
    uri: vscode.Uri,
    file: string,
    topK: number,
  ): Promise<void> {
    const generation = ++this.generation;
    this.watch(client, model, uri, file, topK);
    try {
      const x = await this.lookup(client, model, uri, file, topK);
      if (generation !== this.generation) return; // another image became current meanwhile
      this.current = { uri, file, key: x.key };
      this.sink.showExploration(file, explorationView(x));
    } catch (err) {
      if (generation === this.generation) this.sink.showExplorationError(file, (err as Error).message);
    }
  }

  /** The exploration of an image, from the cache when its content, the model and its precision are unchanged. */
  async lookup(
    client: InferenceClient,
    model: ModelKey,
    uri: vscode.Uri,
    file: string,
    topK: number,
  ): Promise<Exploration> {
    const bytes = await this.read(uri);
    const digest = Buffer.from(await webcrypto.subtle.digest('SHA-256', bytes)).toString('hex');
    const cacheKey = `${model.path}\n${model.precision}\n${topK}\n${digest}`;
    let x = this.cache.get(cacheKey);
    if (!x) {
      x = await client.explore(file, bytes, { topK, preview: true });
      this.remember(cacheKey, x);
    }
    return x;
  }

  /** Channels of one layer of the current image (recomputed in the worker if it let the image go). */
  async featureMaps(
    client: InferenceClient,
    layer: string,
    count: number,
    offset: number,
  ): Promise<FeatureMaps> {
    const c = this.current;
    if (!c) throw new Error(vscode.l10n.t('no image has been explored yet: classify one first'));
    return client.featureMaps(c.key, layer, { count, offset, bytes: await this.read(c.uri) });
  }

  /** The current image once explored: its file, display name and exploration key. */
  get active(): { uri: vscode.Uri; file: string; key: string } | undefined {
    return this.current;
  }

  /** Forgets cached explorations (the model changed). */
  clear(): void {
    this.cache.clear();
    this.current = undefined;
  }

  private remember(key: string, x: Exploration): void {
    this.cache.delete(key);
    this.cache.set(key, x);
    if (this.cache.size > CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
  }

  /** Re-explores when the current file changes on disk (its new content misses the cache). */
  private watch(client: InferenceClient, model: ModelKey, uri: vscode.Uri, file: string, topK: number): void {
    this.watcher?.dispose();
    if (uri.scheme !== 'file') return;
    const w = vscode.workspace.createFileSystemWatcher(
      new vscode.RelativePattern(vscode.Uri.file(path.dirname(uri.fsPath)), path.basename(uri.fsPath)),
      true,
      false,
      true,
    );
    w.onDidChange(() => void this.explore(client, model, uri, file, topK));
    this.watcher = w;
  }
}

/** The webview's form of an exploration: the crop as a data: URL. */
export function explorationView(x: Exploration): ExplorationView {
  const { preview, layers, ...rest } = x;
  return {
    ...rest,
    layers: layers.map(({ channel_means: _, ...l }) => l),
    preview: preview ? jpegDataUrl(preview) : undefined,
  };
}
