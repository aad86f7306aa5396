// A tiny element builder: text is always set as text, never parsed as HTML.

type Child = Node | string | undefined | false;

/** Creates `<tag attrs>children</tag>`; undefined/false children are skipped. */
export function h(tag: string, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) if (c !== undefined && c !== false) el.append(c);
  return el;
}
