// One way for a host object to own its cleanup, as vscode-hexeditor's Disposable does.
import type * as vscode from 'vscode';

/** Owns what it `_register`s: disposing of it disposes of them, newest first, once. */
export abstract class Disposable implements vscode.Disposable {
  private readonly owned: vscode.Disposable[] = [];
  private disposed = false;

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const d of this.owned.splice(0).reverse()) d.dispose();
  }

  /** Whether `dispose` has run. */
  protected get isDisposed(): boolean {
    return this.disposed;
  }

  /** Disposes of `d` with this object (at once when this object is disposed of already); returns `d`. */
  protected _register<T extends vscode.Disposable>(d: T): T {
    if (this.disposed) d.dispose();
    else this.owned.push(d);
    return d;
  }
}
