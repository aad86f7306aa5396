// The page's text in VS Code's display language. The host puts `vscode.l10n.bundle` on the page as
// `<html data-l10n>` (absent in English); main.ts loads it before anything renders, and each view calls
// `l10n.t()` from '@vscode/l10n' itself: `npm run l10n:export` finds messages only in files that import it.
// No l10n.t() runs at a module's top level, which would come before the load (test/unit/l10n.test.ts checks).
import * as l10n from '@vscode/l10n';

/** Loads a bundle's JSON (the page's `data-l10n`); returns whether it did. Unreadable JSON leaves English. */
export function loadTranslations(json: string | undefined): boolean {
  if (!json) return false;
  try {
    l10n.config({ contents: json });
    return true;
  } catch {
    return false;
  }
}
