import type { Tool, ViewerController, ViewerState } from '../viewer/controller.js';

const TOOLS: readonly (readonly [Tool, string, string])[] = [
  ['draw', 'Box', 'B'],
  ['select', 'Select', 'S'],
  ['wl', 'W/L', 'W'],
  ['pan', 'Pan', 'P'],
];

/** Tools, window presets, view controls, undo/redo and the W/L readout above the film. */
export function ViewerToolbar({
  controller,
  viewer,
  canUndo,
  canRedo,
  readOnly,
  onUndo,
  onRedo,
  sideOpen,
  onToggleSide,
}: {
  controller: ViewerController;
  viewer: ViewerState;
  canUndo: boolean;
  canRedo: boolean;
  readOnly: boolean;
  onUndo: () => void;
  onRedo: () => void;
  sideOpen: boolean;
  onToggleSide: () => void;
}) {
  const voiText =
    viewer.voi.kind === 'window'
      ? `W ${Math.round(viewer.voi.width)} / L ${Math.round(viewer.voi.center)}`
      : 'VOI LUT';
  const toggle = (on: boolean) => (on ? 'on' : '');
  return (
    <div className="toolbar" role="toolbar" aria-label="Viewer tools">
      <div className="group">
        {TOOLS.map(([tool, label, key]) => (
          <button
            key={tool}
            type="button"
            aria-pressed={viewer.tool === tool}
            className={toggle(viewer.tool === tool)}
            data-testid={`tool-${tool}`}
            // Nothing can be drawn on a read-only scan: the Box tool is not offered.
            disabled={tool === 'draw' && readOnly}
            title={tool === 'draw' && readOnly ? 'Read-only: boxes cannot be drawn' : `${label} (${key})`}
            onClick={() => controller.setTool(tool)}
          >
            {label}
          </button>
        ))}
      </div>
      <div className="group">
        {controller.presets.slice(0, 4).map((p, i) => (
          <button
            key={p.id}
            type="button"
            className={toggle(viewer.presetId === p.id)}
            data-testid={`preset-${p.id}`}
            title={`${p.label} (${i + 1})`}
            onClick={() => controller.applyPreset(p.id)}
          >
            {p.label}
          </button>
        ))}
        <button
          type="button"
          className={toggle(viewer.presetId === 'auto')}
          data-testid="preset-auto"
          title="Histogram auto-window (A)"
          onClick={() => controller.applyPreset('auto')}
        >
          Auto
        </button>
      </div>
      <div className="group">
        <button
          type="button"
          className={toggle(viewer.invert)}
          data-testid="invert"
          title="Invert (I)"
          onClick={() => controller.toggleInvert()}
        >
          Invert
        </button>
        <button
          type="button"
          className={toggle(viewer.view.flipH)}
          data-testid="flip-h"
          title="Flip horizontal (H)"
          onClick={() => controller.flip('h')}
        >
          Flip H
        </button>
        <button
          type="button"
          className={toggle(viewer.view.flipV)}
          data-testid="flip-v"
          title="Flip vertical (V)"
          onClick={() => controller.flip('v')}
        >
          Flip V
        </button>
        <button type="button" data-testid="zoom-fit" title="Fit (F)" onClick={() => controller.fitToView()}>
          Fit
        </button>
        <button type="button" data-testid="zoom-1to1" title="1:1 (Z)" onClick={() => controller.oneToOne()}>
          1:1
        </button>
        <button
          type="button"
          data-testid="reset-view"
          title="Reset (Space)"
          onClick={() => controller.reset()}
        >
          Reset
        </button>
      </div>
      <div className="group">
        <button
          type="button"
          data-testid="undo"
          disabled={!canUndo || readOnly}
          title="Undo (Ctrl+Z)"
          onClick={onUndo}
        >
          Undo
        </button>
        <button
          type="button"
          data-testid="redo"
          disabled={!canRedo || readOnly}
          title="Redo (Ctrl+Shift+Z)"
          onClick={onRedo}
        >
          Redo
        </button>
      </div>
      <span className="spacer" />
      <span className="readout" data-testid="wl-readout">
        {voiText} · {Math.round(viewer.view.scale * 100)}%
      </span>
      <button
        type="button"
        className="panel-toggle"
        data-testid="toggle-side"
        aria-pressed={sideOpen}
        title={sideOpen ? 'Hide the side panels (more film)' : 'Show the side panels'}
        onClick={onToggleSide}
      >
        {sideOpen ? 'Panels ▸' : '◂ Panels'}
      </button>
    </div>
  );
}
