import type { ViewerState as CapturedView, ViewerPreset } from '@cxr/shared';
import type { ViewerState } from '../viewer/controller.js';

/**
 * The viewer's state as analytics records it (R-ANALYTICS-1): the window in stored values,
 * the preset (the viewer's own `custom`, a window dragged away from a preset, is `manual`),
 * screen pixels per image pixel, and the user's invert.
 */
export function capturedView(state: ViewerState): CapturedView {
  const preset: ViewerPreset = state.presetId === 'custom' ? 'manual' : state.presetId;
  let windowCenter: number;
  let windowWidth: number;
  if (state.voi.kind === 'window') {
    windowCenter = state.voi.center;
    windowWidth = state.voi.width;
  } else {
    // A VOI LUT from the file has no window: its input range stands in for one.
    const n = state.voi.lut.data.length;
    windowCenter = state.voi.lut.firstMapped + n / 2;
    windowWidth = n;
  }
  return {
    windowCenter: round(windowCenter, 2),
    windowWidth: Math.max(round(windowWidth, 2), 0.01),
    preset,
    zoom: Math.max(round(state.view.scale, 4), 0.0001),
    invert: state.invert,
  };
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/**
 * One continuous drag (W/L, pan) or wheel spin moves the state many times a second: changes of
 * the same kind closer together than this are one use of the tool.
 */
export const GESTURE_GAP_MS = 600;

type Gesture = 'wl' | 'pan' | 'zoom';

/**
 * Turns the viewer's state changes into tool uses (`wl`, `pan`, `zoom`, `fit`, `flip`,
 * `invert`, `preset-<id>`). A new image (another scan, or the full file replacing its
 * preview) is not the reader's doing and counts nothing.
 */
export class ToolUseCounter {
  private readonly last = new Map<Gesture, number>();

  uses(prev: ViewerState, next: ViewerState, at: number): string[] {
    if (prev.image.width !== next.image.width || prev.image.height !== next.image.height) return [];
    const out: string[] = [];
    if (next.presetId !== prev.presetId && next.presetId !== 'custom') out.push(`preset-${next.presetId}`);
    if (next.presetId === 'custom' && next.voi !== prev.voi && this.gesture('wl', at)) out.push('wl');
    if (next.invert !== prev.invert) out.push('invert');
    const a = prev.view;
    const b = next.view;
    const resized = prev.screen.width !== next.screen.width || prev.screen.height !== next.screen.height;
    if (a !== b && !resized) {
      if (b.flipH !== a.flipH || b.flipV !== a.flipV) out.push('flip');
      else if (next.fitted && !prev.fitted) out.push('fit');
      else if (b.scale !== a.scale) {
        if (this.gesture('zoom', at)) out.push('zoom');
      } else if ((b.panX !== a.panX || b.panY !== a.panY) && this.gesture('pan', at)) out.push('pan');
    }
    return out;
  }

  /** True when this change starts a new gesture of its kind. */
  private gesture(kind: Gesture, at: number): boolean {
    const before = this.last.get(kind);
    this.last.set(kind, at);
    return before === undefined || at - before > GESTURE_GAP_MS;
  }
}
