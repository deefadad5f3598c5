import { HOTKEYS } from './hotkeys.js';

export function HelpOverlay({ onClose }: { onClose: () => void }) {
  return (
    <div className="overlay" data-testid="help-overlay" role="dialog" aria-label="Keyboard shortcuts">
      <div className="overlay-card">
        <h2>Keyboard shortcuts</h2>
        <table>
          <tbody>
            {HOTKEYS.filter((h) => h.command !== 'zoom-out').map((h) => (
              <tr key={h.command}>
                <td>
                  <kbd>{h.keys}</kbd>
                </td>
                <td>{h.help}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="muted">
          Mouse: wheel zooms at the pointer, middle button pans, right button drags window/level. Drag a box
          to move it; its handles resize it; double-click edits its labels.
        </p>
        <button type="button" className="primary" onClick={onClose} data-testid="help-close">
          Close
        </button>
      </div>
    </div>
  );
}
