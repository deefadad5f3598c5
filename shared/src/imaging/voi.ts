import { lookup, lutMaxOutput } from './modality-lut.js';
import type { VoiLutFunction, VoiTransform } from './types.js';

/**
 * VOI transforms (PS3.3 C.11.2.1.2): modality value -> 0..1 before presentation. Returning a
 * fraction instead of a grey level lets the MONOCHROME1 inversion and the final bit depth be
 * applied afterwards, in the order the standard prescribes.
 */
export function windowFraction(x: number, center: number, width: number, fn: VoiLutFunction): number {
  switch (fn) {
    case 'LINEAR': {
      // C.11.2.1.2.1: width >= 1; the -0.5 and (w - 1) terms are the standard's, not a typo.
      const w = Math.max(1, width);
      const lo = center - 0.5 - (w - 1) / 2;
      const hi = center - 0.5 + (w - 1) / 2;
      if (x <= lo) return 0;
      if (x > hi) return 1;
      return w === 1 ? 1 : (x - (center - 0.5)) / (w - 1) + 0.5;
    }
    case 'LINEAR_EXACT': {
      const w = width > 0 ? width : Number.MIN_VALUE;
      if (x <= center - w / 2) return 0;
      if (x > center + w / 2) return 1;
      return (x - center) / w + 0.5;
    }
    case 'SIGMOID': {
      const w = width > 0 ? width : Number.MIN_VALUE;
      return 1 / (1 + Math.exp((-4 * (x - center)) / w));
    }
    default: {
      const never: never = fn;
      throw new Error(`unknown VOI LUT function ${String(never)}`);
    }
  }
}

/** Applies a chosen VOI transform to one modality value, giving 0..1. */
export function voiFraction(x: number, voi: VoiTransform): number {
  switch (voi.kind) {
    case 'window':
      return clamp01(windowFraction(x, voi.center, voi.width, voi.fn));
    case 'lut':
      return clamp01(lookup(voi.lut, x) / lutMaxOutput(voi.lut));
    default: {
      const never: never = voi;
      throw new Error(`unknown VOI transform ${JSON.stringify(never)}`);
    }
  }
}

function clamp01(v: number): number {
  return Math.min(1, Math.max(0, v));
}
