import * as Y from 'yjs';

/** `count` updates of one document, each setting one of `keys` keys of its `findings` map. */
export function findingEdits(count: number, keys: number): Uint8Array[] {
  const doc = new Y.Doc();
  const out: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array) => out.push(u));
  for (let i = 0; i < count; i++) doc.getMap('findings').set(`k${i % keys}`, { i });
  return out;
}
