import { useEffect, useRef } from 'react';
import type { ViewerController } from './controller.js';
import type { DecodedImage } from './dicom.js';
import { CanvasRenderer } from './render.js';

/**
 * The radiograph itself. Draws straight from the controller on animation frames (at most one
 * draw per frame however many window/level events arrive), outside React's render cycle.
 */
export function ImageCanvas({
  controller,
  image,
  onFirstPaint,
}: {
  controller: ViewerController;
  image: DecodedImage | undefined;
  /** Called once per image, right after its first frame is on the canvas. */
  onFirstPaint?: () => void;
}) {
  const canvasRef = useRef<HTMLCanvasElement>(null);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || !image) return;
    const renderer = new CanvasRenderer(canvas);
    let frame = 0;
    let painted = false;
    const draw = () => {
      frame = 0;
      const s = controller.getState();
      const ratio = window.devicePixelRatio || 1;
      renderer.draw(image, controller.viewport(), s.voi, s.invert, ratio);
      canvas.style.width = `${s.screen.width}px`;
      canvas.style.height = `${s.screen.height}px`;
      canvas.dataset.frames = String(renderer.stats().frames);
      if (!painted) {
        painted = true;
        onFirstPaint?.();
      }
    };
    const schedule = () => {
      if (frame === 0) frame = requestAnimationFrame(draw);
    };
    // Exposed for the benchmark: the recent frame times of this renderer.
    (canvas as HTMLCanvasElement & { frameTimes?: number[] }).frameTimes = renderer.frameTimes;
    draw();
    const unsubscribe = controller.subscribe(schedule);
    return () => {
      unsubscribe();
      if (frame !== 0) cancelAnimationFrame(frame);
    };
  }, [controller, image, onFirstPaint]);

  return <canvas ref={canvasRef} className="image-canvas" data-testid="image-canvas" />;
}
