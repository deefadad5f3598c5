import { type RefObject, useEffect } from 'react';
import type { ViewerController } from '../viewer/controller.js';

/** The viewer fills its box: the controller learns every size the box takes. */
export function useViewerSize(ref: RefObject<HTMLDivElement | null>, controller: ViewerController): void {
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const observer = new ResizeObserver(() => {
      controller.setScreen({ width: el.clientWidth, height: el.clientHeight });
    });
    observer.observe(el);
    controller.setScreen({ width: el.clientWidth, height: el.clientHeight });
    return () => observer.disconnect();
  }, [ref, controller]);
}
