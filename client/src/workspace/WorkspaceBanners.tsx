import { BlindBanner, BlindWaitBanner } from '../blind/FusionViews.js';
import { type Refusal, describeRefusal } from '../collab/status.js';

/** The one-line notices above the viewer: locked, blind stage, a refused change. */
export function WorkspaceBanners({
  locked,
  blindReading,
  blindWaiting,
  refusal,
  onSignOut,
  onDismiss,
}: {
  locked: boolean;
  blindReading: boolean;
  blindWaiting: boolean;
  refusal: Refusal | undefined;
  onSignOut: () => void;
  onDismiss: () => void;
}) {
  return (
    <>
      {locked && (
        <div className="banner banner-locked" data-testid="locked-banner" role="status">
          This scan is locked: the consensus is final and read-only.
        </div>
      )}
      {blindReading && <BlindBanner />}
      {blindWaiting && <BlindWaitBanner />}
      {refusal && (
        <div
          className="banner banner-refused"
          data-testid="refused-banner"
          role="alert"
          data-code={refusal.code}
        >
          {refusal.stopped ? 'The server closed the connection: ' : 'The server refused a change: '}
          {describeRefusal(refusal.code, refusal.reason)}.
          {refusal.discarded && ' Local edits to this scan were discarded and the panel’s copy reloaded.'}
          {refusal.stopped && refusal.code === 4401 && (
            <button type="button" onClick={onSignOut}>
              Sign in again
            </button>
          )}
          {refusal.stopped && refusal.code !== 4401 && (
            <button type="button" onClick={() => location.reload()}>
              Reload
            </button>
          )}
          {!refusal.stopped && (
            <button type="button" className="ghost" onClick={onDismiss}>
              Dismiss
            </button>
          )}
        </div>
      )}
    </>
  );
}
