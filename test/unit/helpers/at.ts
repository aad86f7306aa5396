// Indexing that the tests may rely on: with noUncheckedIndexedAccess `xs[i]` may be undefined, and a test that
// expects an element there should fail with a message, not with a TypeError further on.
import assert from 'node:assert/strict';

/** `items.at(index)` (arrays, typed arrays, strings; a negative index counts from the end), asserted to be there. */
export function at<T>(
  items: { readonly length: number; at(index: number): T | undefined },
  index: number,
): T {
  const item = items.at(index);
  assert.ok(item !== undefined, `expected an element at ${index} of ${items.length}`);
  return item;
}
