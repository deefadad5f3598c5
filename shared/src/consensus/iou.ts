import type { Box } from '../model/schemas.js';

/** Area of a box in square pixels; an inverted or degenerate box has area 0, never negative. */
export function boxArea(box: Box): number {
  return Math.max(0, box.x_max - box.x_min) * Math.max(0, box.y_max - box.y_min);
}

/**
 * Intersection over union of two boxes in image pixels, in [0, 1].
 *
 * Coordinates are continuous (a box [0,0,10,10] has area 100, as in the VinDr-CXR CSV and the
 * Kaggle VOC metric at IoU > 0.4), not the inclusive "+1 pixel" convention of old VOC code:
 * the consensus must score the same boxes the same way the exports describe them.
 *
 * Two zero-area boxes have an empty union; we return 0 rather than NaN so that callers can
 * compare against a threshold without a special case (nothing of size 0 "overlaps").
 */
export function iou(a: Box, b: Box): number {
  const width = Math.min(a.x_max, b.x_max) - Math.max(a.x_min, b.x_min);
  const height = Math.min(a.y_max, b.y_max) - Math.max(a.y_min, b.y_min);
  if (width <= 0 || height <= 0) return 0;
  const intersection = width * height;
  const union = boxArea(a) + boxArea(b) - intersection;
  if (union <= 0) return 0;
  // Rounding can push intersection/union a hair above 1 for identical boxes; clamp so the
  // documented range holds exactly.
  return Math.min(1, intersection / union);
}
