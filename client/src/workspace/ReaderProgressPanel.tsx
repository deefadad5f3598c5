/** "Your reading": a reader marks the scan done once it satisfies the VinDr reading rules. */
export function ReaderProgressPanel({
  done,
  blocked,
  stillValid,
  onToggle,
}: {
  done: boolean;
  /** Why marking done is refused now, if it is. */
  blocked: string | undefined;
  /** The reading still satisfies the rules (shown when it was marked done and no longer does). */
  stillValid: boolean;
  onToggle: () => void;
}) {
  return (
    <section className="panel" aria-labelledby="progress-title" data-testid="progress-panel">
      <h2 id="progress-title">Your reading</h2>
      <button
        type="button"
        className={done ? 'on' : ''}
        data-testid="mark-done"
        aria-pressed={done}
        disabled={blocked !== undefined}
        title={blocked ?? (done ? 'Mark as not done' : 'Mark this scan done')}
        onClick={onToggle}
      >
        {done ? '✓ Done' : 'Mark done'}
      </button>
      {blocked && (
        <p className="rules warn" data-testid="mark-done-reason">
          Cannot mark done: {blocked}
        </p>
      )}
      {done && !stillValid && (
        <p className="rules warn">Marked done, but the reading no longer satisfies the rules.</p>
      )}
    </section>
  );
}
