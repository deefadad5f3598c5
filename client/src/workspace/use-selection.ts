import type { LocalLabel } from '@cxr/shared';
import { useEffect, useState } from 'react';
import type { AnnotationSnapshot, YAnnotationStore } from '../annotate/store.js';
import type { ImageBox } from '../viewer/transform.js';

const NOTICE_MS = 4000;

/** A finding being labelled, or a drawn box waiting for its first label. */
export type PickerTarget = { kind: 'finding'; id: string } | { kind: 'draft'; box: ImageBox };

/**
 * The selected box, the label picker and the short notice: they follow the document (a box
 * deleted by someone else is deselected) and close when the scan becomes read-only.
 */
export function useSelection(
  store: YAnnotationStore | undefined,
  snap: AnnotationSnapshot,
  readOnly: boolean,
) {
  const [selectedId, setSelectedId] = useState<string | undefined>();
  const [picker, setPicker] = useState<PickerTarget | undefined>();
  const [notice, setNotice] = useState<string | undefined>();

  useEffect(() => {
    if (selectedId && !snap.findings.some((f) => f.id === selectedId)) setSelectedId(undefined);
    if (picker?.kind === 'finding') {
      const id = picker.id;
      if (!snap.findings.some((f) => f.id === id)) setPicker(undefined);
    }
  }, [snap.findings, selectedId, picker]);

  useEffect(() => {
    if (readOnly) setPicker(undefined);
  }, [readOnly]);

  useEffect(() => {
    if (!notice) return;
    const t = setTimeout(() => setNotice(undefined), NOTICE_MS);
    return () => clearTimeout(t);
  }, [notice]);

  const editLabels = (id: string) => {
    setSelectedId(id);
    setPicker({ kind: 'finding', id });
  };

  /** The picker's click: the draft becomes a finding, or the finding's labels change. */
  const toggleLabel = (label: LocalLabel) => {
    if (!store || !picker) return;
    if (picker.kind === 'draft') {
      const r = store.addFinding(picker.box, [label]);
      if (r.ok) editLabels(r.id);
      else {
        setNotice(r.reason);
        setPicker(undefined);
      }
      return;
    }
    const id = picker.id;
    const f = snap.findings.find((x) => x.id === id);
    if (!f) return;
    const has = f.labels.includes(label);
    if (has && f.labels.length === 1) {
      setNotice('A box keeps at least one label: delete the box instead');
      return;
    }
    store.setLabels(f.id, has ? f.labels.filter((l) => l !== label) : [...f.labels, label]);
  };

  const removeSelected = () => {
    if (selectedId && store && !readOnly) {
      store.remove(selectedId);
      setSelectedId(undefined);
    }
  };

  return {
    selectedId,
    setSelectedId,
    picker,
    setPicker,
    notice,
    setNotice,
    editLabels,
    toggleLabel,
    removeSelected,
  };
}
