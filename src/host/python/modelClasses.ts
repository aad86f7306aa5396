// The model classes of a Python file, found in its text without running it: where the CodeLens goes and
// which classes the editor analyses. A heuristic over top-level `class` lines, not a Python parser.

/** A class the helper can construct: an nn.Module subclass defined at the top level of the file. */
export interface ModelClass {
  name: string;
  /** 0-based line of its `class` statement. */
  line: number;
  /** Whether a `# cnn-lens:` comment above it gives its input or arguments. */
  configured: boolean;
}

const CLASS_LINE = /^class\s+([A-Za-z_]\w*)\s*\(([^)]*)\)\s*:/;
const MODULE_BASE = /^(?:torch\.)?(?:nn\.)?Module$/;
const COMMENT = /^#\s*cnn-lens:/i;

/**
 * Top-level classes whose bases include nn.Module, torch.nn.Module or Module, or another class of the
 * same file that does (a model deriving from the file's base model), in file order.
 */
export function findModelClasses(text: string): ModelClass[] {
  const lines = text.split(/\r?\n/);
  const candidates: { name: string; line: number; bases: string[] }[] = [];
  lines.forEach((line, i) => {
    const m = CLASS_LINE.exec(line);
    if (!m) return;
    const bases = m[2]!
      .split(',')
      .map((b) => b.trim())
      .filter((b) => b && !b.includes('='));
    candidates.push({ name: m[1]!, line: i, bases });
  });
  const models = new Set<string>();
  for (let grew = true; grew; ) {
    grew = false;
    for (const c of candidates) {
      if (models.has(c.name) || !c.bases.some((b) => MODULE_BASE.test(b) || models.has(b))) continue;
      models.add(c.name);
      grew = true;
    }
  }
  return candidates
    .filter((c) => models.has(c.name))
    .map((c) => ({ name: c.name, line: c.line, configured: commentAbove(lines, c.line) }));
}

/** Whether the lines just above `line` (comments and decorators) hold a `# cnn-lens:` comment. */
function commentAbove(lines: readonly string[], line: number): boolean {
  for (let i = line - 1; i >= 0; i--) {
    const text = lines[i]!.trim();
    if (COMMENT.test(text)) return true;
    if (!text.startsWith('#') && !text.startsWith('@')) return false;
  }
  return false;
}
