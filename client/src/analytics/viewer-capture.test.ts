import { ViewerStateSchema } from '@cxr/shared';
import { describe, expect, it } from 'vitest';
import type { ViewerState } from '../viewer/controller.js';
import { GESTURE_GAP_MS, ToolUseCounter, capturedView } from './viewer-capture.js';

const base: ViewerState = {
  image: { width: 3000, height: 2800 },
  screen: { width: 800, height: 600 },
  view: { scale: 0.2, panX: 0, panY: 0, flipH: false, flipV: false },
  voi: { kind: 'window', center: 2048, width: 4096, fn: 'LINEAR' },
  presetId: 'default',
  invert: false,
  tool: 'draw',
  fitted: true,
};

describe('capturedView', () => {
  it('records the window, the preset, the zoom and invert as the protocol has them', () => {
    const v = capturedView({ ...base, presetId: 'lung', view: { ...base.view, scale: 0.123456 } });
    expect(ViewerStateSchema.parse(v)).toEqual({
      windowCenter: 2048,
      windowWidth: 4096,
      preset: 'lung',
      zoom: 0.1235,
      invert: false,
    });
  });

  it("sends the viewer's custom window as manual", () => {
    expect(capturedView({ ...base, presetId: 'custom' }).preset).toBe('manual');
  });

  it('gives a VOI LUT its input range as the window', () => {
    const v = capturedView({
      ...base,
      voi: { kind: 'lut', lut: { firstMapped: 100, bitsPerEntry: 12, data: new Uint16Array(1000) } },
    });
    expect([v.windowCenter, v.windowWidth]).toEqual([600, 1000]);
  });
});

describe('ToolUseCounter', () => {
  it('counts one W/L use per drag, not per mouse move', () => {
    const c = new ToolUseCounter();
    let prev = base;
    const uses: string[] = [];
    for (let i = 1; i <= 20; i++) {
      const next: ViewerState = {
        ...prev,
        presetId: 'custom',
        voi: { kind: 'window', center: 2048 + i, width: 4096, fn: 'LINEAR' },
      };
      uses.push(...c.uses(prev, next, 1000 + i * 16));
      prev = next;
    }
    const later: ViewerState = { ...prev, voi: { kind: 'window', center: 10, width: 20, fn: 'LINEAR' } };
    uses.push(...c.uses(prev, later, 1000 + 20 * 16 + GESTURE_GAP_MS + 1));
    expect(uses).toEqual(['wl', 'wl']);
  });

  it('names presets, invert, flips, fit, zoom and pan', () => {
    const c = new ToolUseCounter();
    const lung: ViewerState = {
      ...base,
      presetId: 'lung',
      voi: { kind: 'window', center: 1, width: 2, fn: 'LINEAR' },
    };
    expect(c.uses(base, lung, 0)).toEqual(['preset-lung']);
    expect(c.uses(base, { ...base, invert: true }, 0)).toEqual(['invert']);
    expect(c.uses(base, { ...base, view: { ...base.view, flipH: true } }, 0)).toEqual(['flip']);
    const zoomed: ViewerState = { ...base, fitted: false, view: { ...base.view, scale: 0.4 } };
    expect(c.uses(base, zoomed, 0)).toEqual(['zoom']);
    expect(c.uses(zoomed, { ...zoomed, view: { ...zoomed.view, panX: 30 } }, 0)).toEqual(['pan']);
    expect(c.uses(zoomed, base, 0)).toEqual(['fit']);
  });

  it('counts nothing for a new image or a resized viewer', () => {
    const c = new ToolUseCounter();
    const other: ViewerState = {
      ...base,
      image: { width: 100, height: 100 },
      view: { ...base.view, scale: 3 },
    };
    expect(c.uses(base, other, 0)).toEqual([]);
    const resized: ViewerState = {
      ...base,
      screen: { width: 900, height: 600 },
      view: { ...base.view, scale: 0.21 },
    };
    expect(c.uses(base, resized, 0)).toEqual([]);
  });
});
