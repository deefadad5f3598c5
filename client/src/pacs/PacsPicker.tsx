import { type FormEvent, useEffect, useRef, useState } from 'react';
import { type Api, ApiError } from '../app/api.js';
import {
  type PacsJob,
  type PacsStudy,
  type StudyQuery,
  importJob,
  searchStudies,
  shownDate,
  shownName,
  startImport,
} from './pacs-api.js';

const POLL_MS = 500;
const EMPTY_QUERY: StudyQuery = { patientId: '', accessionNumber: '', studyDate: '', modality: '' };

/** What a failed request means to the person at the picker. */
function problem(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.code === 'pacs_unavailable') return 'The PACS does not answer. Try again in a moment.';
    if (error.code === 'pacs_not_configured') return 'No PACS is configured on this server (PACS_URL).';
    if (error.code === 'validation_failed') return `Check the search fields: ${error.message}`;
    return error.message;
  }
  return 'Something went wrong talking to the server.';
}

/**
 * "From PACS" (docs/UI.md): the moderator or an admin searches the hospital's PACS, ticks
 * studies and imports them into this session, watching the job's progress. The scans join the
 * worklist as they are imported; the job goes on on the server if the picker is closed.
 */
export function PacsPicker({
  api,
  sessionId,
  onImported,
  onClose,
}: {
  api: Api;
  sessionId: string;
  /** New scans arrived in the session (reload its worklist). */
  onImported: () => void;
  onClose: () => void;
}) {
  const [query, setQuery] = useState<StudyQuery>(EMPTY_QUERY);
  const [studies, setStudies] = useState<PacsStudy[] | undefined>();
  const [picked, setPicked] = useState<ReadonlySet<string>>(new Set());
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | undefined>();
  const [job, setJob] = useState<PacsJob | undefined>();
  const seenScans = useRef(0);

  // Poll the job until it settles; new scans reload the worklist as they come.
  const jobId = job?.id;
  const settled = job?.state === 'done' || job?.state === 'failed';
  useEffect(() => {
    if (!jobId || settled) return;
    let live = true;
    const timer = setInterval(() => {
      importJob(api, jobId).then(
        (next) => {
          if (!live) return;
          setJob(next);
          if (next.scans.length > seenScans.current) {
            seenScans.current = next.scans.length;
            onImported();
          }
        },
        (error: unknown) => live && setMessage(problem(error)),
      );
    }, POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [api, jobId, settled, onImported]);

  const search = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setMessage(undefined);
    try {
      const found = await searchStudies(api, query);
      setStudies(found);
      setPicked(new Set());
    } catch (error) {
      setMessage(problem(error));
    } finally {
      setBusy(false);
    }
  };

  const importPicked = async () => {
    setBusy(true);
    setMessage(undefined);
    try {
      const id = await startImport(api, [...picked], sessionId);
      seenScans.current = 0;
      setJob({
        id,
        state: 'queued',
        sessionId,
        studyInstanceUids: [...picked],
        total: 0,
        done: 0,
        failed: 0,
        scans: [],
        errors: [],
        attempts: 0,
        lastError: null,
        createdAt: new Date().toISOString(),
        finishedAt: null,
      });
    } catch (error) {
      setMessage(problem(error));
    } finally {
      setBusy(false);
    }
  };

  const toggle = (uid: string) =>
    setPicked((now) => {
      const next = new Set(now);
      if (next.has(uid)) next.delete(uid);
      else next.add(uid);
      return next;
    });

  const field = (key: keyof StudyQuery, label: string, placeholder: string, testId: string) => (
    <label className="pacs-field">
      <span>{label}</span>
      <input
        data-testid={testId}
        value={query[key]}
        placeholder={placeholder}
        onChange={(e) => setQuery({ ...query, [key]: e.target.value })}
      />
    </label>
  );

  return (
    <div
      className="overlay"
      role="dialog"
      aria-modal="true"
      aria-label="Import from the PACS"
      data-testid="pacs-dialog"
    >
      <div className="overlay-card pacs-card">
        <h2>Import from the PACS</h2>
        <form className="pacs-query" onSubmit={search}>
          {field('patientId', 'Patient ID', 'e.g. 123456', 'pacs-query-patient-id')}
          {field('accessionNumber', 'Accession', 'e.g. ACC-1', 'pacs-query-accession')}
          {field('studyDate', 'Study date', 'YYYY-MM-DD or a range', 'pacs-query-date')}
          {field('modality', 'Modality', 'DX, CR', 'pacs-query-modality')}
          <button type="submit" className="primary" disabled={busy} data-testid="pacs-search">
            Search
          </button>
        </form>
        {message ? (
          <p className="error" role="alert" data-testid="pacs-message">
            {message}
          </p>
        ) : null}
        {studies ? (
          studies.length === 0 ? (
            <p className="muted" data-testid="pacs-no-results">
              No study in the PACS matches.
            </p>
          ) : (
            <div className="pacs-results">
              <table data-testid="pacs-results">
                <thead>
                  <tr>
                    <th aria-label="Pick" />
                    <th>Patient</th>
                    <th>Date</th>
                    <th>Accession</th>
                    <th>Modalities</th>
                    <th>Images</th>
                    <th>Description</th>
                  </tr>
                </thead>
                <tbody>
                  {studies.map((s) => (
                    <tr
                      key={s.studyInstanceUid}
                      data-testid="pacs-study-row"
                      data-study-uid={s.studyInstanceUid}
                    >
                      <td>
                        <input
                          type="checkbox"
                          data-testid="pacs-study-check"
                          aria-label={`Pick study ${s.accessionNumber ?? s.studyInstanceUid}`}
                          checked={picked.has(s.studyInstanceUid)}
                          onChange={() => toggle(s.studyInstanceUid)}
                        />
                      </td>
                      <td>
                        {shownName(s.patientName)} <span className="muted">{s.patientId}</span>
                      </td>
                      <td>{shownDate(s.studyDate)}</td>
                      <td>{s.accessionNumber}</td>
                      <td>{s.modalities.join(', ')}</td>
                      <td>{s.instances ?? ''}</td>
                      <td>{s.studyDescription}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        ) : null}
        {job ? <ImportProgress job={job} /> : null}
        <div className="pacs-actions">
          <button
            type="button"
            className="primary"
            disabled={busy || picked.size === 0 || (job !== undefined && !settled)}
            onClick={importPicked}
            data-testid="pacs-import"
          >
            Import {picked.size || ''} {picked.size === 1 ? 'study' : 'studies'} into this session
          </button>
          <button type="button" onClick={onClose} data-testid="pacs-close">
            {job && !settled ? 'Close (the import goes on)' : 'Close'}
          </button>
        </div>
      </div>
    </div>
  );
}

function ImportProgress({ job }: { job: PacsJob }) {
  const settledCount = job.done + job.failed;
  const waiting = job.lastError && job.state !== 'done' && job.state !== 'failed';
  return (
    <div
      className="pacs-progress"
      data-testid="pacs-progress"
      data-state={job.state}
      data-done={job.done}
      data-failed={job.failed}
      data-total={job.total}
      aria-live="polite"
    >
      <progress max={Math.max(job.total, 1)} value={settledCount} />
      <span>
        {job.state === 'queued' || job.total === 0
          ? 'Listing the studies…'
          : `${settledCount} of ${job.total} images: ${job.done} imported${job.failed ? `, ${job.failed} failed` : ''}`}
        {job.state === 'done' ? ' — done' : job.state === 'failed' ? ' — nothing could be imported' : ''}
      </span>
      {waiting ? (
        <span className="muted">Waiting for the PACS or the image archive; it will go on by itself.</span>
      ) : null}
      {job.errors.length > 0 ? (
        <ul className="pacs-errors" data-testid="pacs-errors">
          {job.errors.map((e) => (
            <li key={`${e.studyInstanceUid}/${e.sopInstanceUid ?? ''}`}>
              {e.sopInstanceUid ? 'Image' : 'Study'} {e.sopInstanceUid ?? e.studyInstanceUid}: {e.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
