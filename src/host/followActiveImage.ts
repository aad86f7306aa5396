// While the panel is open, an image opened in an editor becomes its current image (cnnLens.followActiveImage).
import * as vscode from 'vscode';
import { isImagePath } from '../files/imageFiles';
import { readSettings } from './config';
import { Disposable } from './disposable';
import { log } from './log';

/** What following the active image needs of the rest of the extension. */
export interface FollowHost {
  /** Whether the panel is open. */
  panelOpen(): boolean;
  /** Whether a classify run is in flight (tab events during a run are its own doing). */
  running(): boolean;
  /** Whether the panel's run holds this image already. */
  holds(uri: vscode.Uri): boolean;
  classify(uri: vscode.Uri): Promise<void>;
}

/** Classifies the image of the active editor tab when it changes, while the panel is open. */
export class ActiveImageFollower extends Disposable {
  /** The image tab that was active at the last tab event, to react to changes only. */
  private lastActiveImage: string | undefined;

  constructor(private readonly host: FollowHost) {
    super();
    this._register(vscode.window.tabGroups.onDidChangeTabs(() => this.follow()));
  }

  private follow(): void {
    const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    const uri = input instanceof vscode.TabInputCustom && isImagePath(input.uri.path) ? input.uri : undefined;
    // Tab events fire for many reasons (the panel opening, a tab moving): act only when the active
    // image changes, never during a run, and not for an image the run already holds.
    const key = uri?.toString();
    if (key === this.lastActiveImage || this.host.running()) return;
    this.lastActiveImage = key;
    if (!uri || !this.host.panelOpen() || !readSettings().followActiveImage) return;
    if (this.host.holds(uri)) return;
    this.host.classify(uri).catch((err: Error) => log.error(`following the active image: ${err.message}`));
  }
}
