import { useState } from 'react';
import { downloadExport, exportPath } from '../blind/blind-api.js';

type Entry = {
  readonly id: string;
  readonly label: string;
  readonly path: string;
  readonly fileName: string;
  /** Why it cannot be downloaded now, or undefined. */
  readonly blocked: string | undefined;
};

type DownloadState =
  | { state: 'busy' }
  | { state: 'done'; bytes: number }
  | { state: 'error'; message: string };

/**
 * Downloads of the consensus exports (VinDr-CXR CSVs, COCO, manifest, the scan's DICOM SR) and,
 * for the moderator after the reveal, every reader's blind reading in the VinDr train layout.
 * The routes need the bearer token, so each download is fetched and saved through a blob URL.
 * Consensus files exist only for locked scans: until then the buttons say why they are off.
 */
export function ExportsPanel({
  token,
  sessionId,
  scanId,
  scanLocked,
  anyLocked,
  readerFiles,
}: {
  token: string;
  sessionId: string;
  scanId: string;
  scanLocked: boolean;
  anyLocked: boolean;
  /** The per-reader train-layout CSVs are offered (moderator of a revealed blind session). */
  readerFiles: boolean;
}) {
  const [states, setStates] = useState<Record<string, DownloadState>>({});
  const noLock = anyLocked ? undefined : 'No scan of this session is locked yet';
  const entries: Entry[] = [
    {
      id: 'annotations-test',
      label: 'annotations_test.csv',
      path: exportPath.session(sessionId, 'annotations_test.csv'),
      fileName: 'annotations_test.csv',
      blocked: noLock,
    },
    {
      id: 'image-labels-test',
      label: 'image_labels_test.csv',
      path: exportPath.session(sessionId, 'image_labels_test.csv'),
      fileName: 'image_labels_test.csv',
      blocked: noLock,
    },
    {
      id: 'coco',
      label: 'coco.json',
      path: exportPath.session(sessionId, 'coco.json'),
      fileName: 'coco.json',
      blocked: noLock,
    },
    {
      id: 'manifest',
      label: 'manifest.json',
      path: exportPath.session(sessionId, 'manifest.json'),
      fileName: 'manifest.json',
      blocked: undefined,
    },
    {
      id: 'sr',
      label: 'DICOM SR of this scan',
      path: exportPath.sr(sessionId, scanId),
      fileName: `${scanId}.sr.dcm`,
      blocked: scanLocked ? undefined : 'This scan is not locked yet',
    },
    ...(readerFiles
      ? [
          {
            id: 'annotations-train',
            label: 'annotations_train.csv (readers)',
            path: exportPath.session(sessionId, 'annotations_train.csv'),
            fileName: 'annotations_train.csv',
            blocked: undefined,
          },
          {
            id: 'image-labels-train',
            label: 'image_labels_train.csv (readers)',
            path: exportPath.session(sessionId, 'image_labels_train.csv'),
            fileName: 'image_labels_train.csv',
            blocked: undefined,
          },
        ]
      : []),
  ];

  const download = async (entry: Entry) => {
    setStates((s) => ({ ...s, [entry.id]: { state: 'busy' } }));
    try {
      const bytes = await downloadExport(token, entry.path, entry.fileName);
      setStates((s) => ({ ...s, [entry.id]: { state: 'done', bytes } }));
    } catch (e) {
      const message = e instanceof Error ? e.message : 'download failed';
      setStates((s) => ({ ...s, [entry.id]: { state: 'error', message } }));
    }
  };

  return (
    <section className="panel" aria-labelledby="exports-title" data-testid="exports-panel">
      <h2 id="exports-title">Exports</h2>
      {noLock && (
        <p className="muted" data-testid="exports-reason">
          {noLock}: consensus exports cover locked scans only.
        </p>
      )}
      <ul className="exports">
        {entries.map((entry) => {
          const st = states[entry.id];
          return (
            <li key={entry.id}>
              <button
                type="button"
                data-testid={`export-${entry.id}`}
                data-state={st?.state ?? 'idle'}
                data-bytes={st?.state === 'done' ? st.bytes : ''}
                disabled={entry.blocked !== undefined || st?.state === 'busy'}
                title={entry.blocked ?? `Download ${entry.fileName}`}
                onClick={() => void download(entry)}
              >
                {entry.label}
              </button>
              {entry.blocked && entry.blocked !== noLock && <small className="muted"> {entry.blocked}</small>}
              {st?.state === 'error' && (
                <small className="error" role="alert">
                  {' '}
                  {st.message}
                </small>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
