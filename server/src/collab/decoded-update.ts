import { DOC_ROOTS } from '@cxr/shared';
import * as Y from 'yjs';

/** One value an update writes: a map entry under a root of the scan document. */
export interface WrittenEntry {
  readonly root: string;
  readonly key: string;
  /** The JSON value written; `undefined` for an entry written already deleted. */
  readonly value: unknown;
  readonly deleted: boolean;
}

/** What an update would do to the document, read without applying it. */
export interface UpdateEffect {
  /** Whether the update holds anything the document does not have yet. */
  readonly changed: boolean;
  /** Per client, how far the update moves its clock. */
  readonly advances: ReadonlyMap<number, number>;
  readonly written: readonly WrittenEntry[];
  /** Roots and keys of entries already in the document that the update deletes. */
  readonly deleted: ReadonlyArray<{ readonly root: string | undefined; readonly key: string | null }>;
  /** Keys written under `findings` that the document does not hold yet. */
  readonly newFindingKeys: ReadonlySet<string>;
}

/**
 * Reads an update against the document it would be applied to, without applying it: which
 * map entries it writes (resolving each entry's parent through the item it replaces, as Yjs
 * does when it integrates) and which existing entries it deletes. Applying it to a copy of
 * the document first cost as much again as applying it for real, on every move.
 *
 * Answers `undefined` whenever the update is not the plain shape live editing produces (map
 * entries of single JSON values under root maps, deletes of known items, nothing missing):
 * the guard then judges it the thorough way, on a copy. Throws if the update cannot be decoded.
 */
export function readUpdateEffect(update: Uint8Array, doc: Y.Doc): UpdateEffect | undefined {
  const { structs, ds } = Y.decodeUpdate(update);
  const store = doc.store;
  const roots = new Map<unknown, string>();
  for (const [name, type] of doc.share) roots.set(type, name);
  const findings = doc.share.get(DOC_ROOTS.findings) as Y.Map<unknown> | undefined;

  const advances = new Map<number, number>();
  const written: WrittenEntry[] = [];
  const newFindingKeys = new Set<string>();
  /** New items of this update by client, to resolve origins that point into the update itself. */
  const fresh = new Map<number, Array<{ clock: number; length: number; root: string; key: string }>>();
  let changed = false;

  for (const struct of structs) {
    if (struct instanceof Y.Skip) return undefined;
    const { client, clock } = struct.id;
    const known = Y.getState(store, client) + (advances.get(client) ?? 0);
    if (clock + struct.length <= Y.getState(store, client)) continue; // already in the document
    // A gap (it depends on what the server has not seen) or a partial overlap.
    if (clock !== known) return undefined;
    advances.set(client, (advances.get(client) ?? 0) + struct.length);
    changed = true;
    if (!(struct instanceof Y.Item)) continue; // GC: content already gone, nothing to judge
    const place = placeOf(struct, store, roots, fresh);
    if (place === undefined) return undefined;
    const content = struct.content;
    let value: unknown;
    const deleted = content instanceof Y.ContentDeleted;
    if (!deleted) {
      if (!(content instanceof Y.ContentAny) || content.getLength() !== 1) return undefined;
      value = content.getContent()[0];
    }
    written.push({ root: place.root, key: place.key, value, deleted });
    if (place.root === DOC_ROOTS.findings && !deleted && !findings?.has(place.key))
      newFindingKeys.add(place.key);
    const list = fresh.get(client) ?? [];
    if (list.length === 0) fresh.set(client, list);
    list.push({ clock, length: struct.length, root: place.root, key: place.key });
  }

  const deleted: Array<{ root: string | undefined; key: string | null }> = [];
  for (const [client, ranges] of ds.clients) {
    const state = Y.getState(store, client);
    const structsOf = store.clients.get(client);
    for (const { clock, len } of ranges) {
      const end = clock + len;
      // Deletes of this update's own new items were judged with the items.
      if (clock >= state) {
        if (end > state + (advances.get(client) ?? 0)) return undefined;
        changed = true;
        continue;
      }
      if (end > state) {
        if (end > state + (advances.get(client) ?? 0)) return undefined;
        changed = true;
      }
      if (!structsOf) return undefined;
      for (let i = Y.findIndexSS(structsOf, clock); i < structsOf.length; i++) {
        const s = structsOf[i]!;
        if (s.id.clock >= Math.min(end, state)) break;
        if (!(s instanceof Y.Item) || s.deleted) continue;
        changed = true;
        deleted.push({ root: roots.get(s.parent), key: s.parentSub });
      }
    }
  }
  return { changed, advances, written, deleted, newFindingKeys };
}

/**
 * The root and key a new item is written under: given outright for a first write, else those
 * of the item it was written next to (its origin), in the document or earlier in this update.
 */
function placeOf(
  item: Y.Item,
  store: Y.Doc['store'],
  roots: ReadonlyMap<unknown, string>,
  fresh: ReadonlyMap<number, ReadonlyArray<{ clock: number; length: number; root: string; key: string }>>,
): { root: string; key: string } | undefined {
  if (item.origin === null && item.rightOrigin === null) {
    // A nested type's id, or no key (a list): not the layout's shape.
    if (typeof item.parent !== 'string' || item.parentSub === null) return undefined;
    return { root: item.parent, key: item.parentSub };
  }
  const neighbour = item.origin ?? item.rightOrigin!;
  if (neighbour.clock < Y.getState(store, neighbour.client)) {
    const found = Y.getItem(store, neighbour);
    // Next to garbage-collected content the item is dropped on arrival; let the copy judge it.
    if (!(found instanceof Y.Item) || found.parentSub === null) return undefined;
    const root = roots.get(found.parent);
    return root === undefined ? undefined : { root, key: found.parentSub };
  }
  const inUpdate = fresh
    .get(neighbour.client)
    ?.find((f) => neighbour.clock >= f.clock && neighbour.clock < f.clock + f.length);
  return inUpdate ? { root: inUpdate.root, key: inUpdate.key } : undefined;
}
