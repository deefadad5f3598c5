import { useEffect } from 'react';
import type { YAnnotationStore } from '../annotate/store.js';
import { commandFor, isTypingTarget } from '../app/hotkeys.js';
import type { ViewerController } from '../viewer/controller.js';

/** What the hotkeys do outside the viewer itself. */
export interface HotkeyActions {
  removeSelected(): void;
  deselect(): void;
  toggleHelp(): void;
  editLabels(): void;
}

/**
 * The reading hotkeys (app/hotkeys.ts holds the table), on the window, not while typing and
 * not while the label picker has focus (it stops propagation).
 */
export function useWorkspaceHotkeys(
  controller: ViewerController,
  store: YAnnotationStore | undefined,
  actions: HotkeyActions,
): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTypingTarget(e.target) && e.key !== 'Escape') return;
      const command = commandFor(e);
      if (!command) return;
      e.preventDefault();
      switch (command) {
        case 'invert':
          return controller.toggleInvert();
        case 'reset':
          return controller.reset();
        case 'preset-1':
          return controller.applyPresetNumber(1);
        case 'preset-2':
          return controller.applyPresetNumber(2);
        case 'preset-3':
          return controller.applyPresetNumber(3);
        case 'preset-4':
          return controller.applyPresetNumber(4);
        case 'preset-auto':
          return controller.applyPreset('auto');
        case 'flip-h':
          return controller.flip('h');
        case 'flip-v':
          return controller.flip('v');
        case 'fit':
          return controller.fitToView();
        case 'one-to-one':
          return controller.oneToOne();
        case 'zoom-in':
          return controller.zoomBy(1.25);
        case 'zoom-out':
          return controller.zoomBy(0.8);
        case 'undo':
          return store?.undo();
        case 'redo':
          return store?.redo();
        case 'delete':
          return actions.removeSelected();
        case 'deselect':
          return actions.deselect();
        case 'help':
          return actions.toggleHelp();
        case 'tool-draw':
          return controller.setTool('draw');
        case 'tool-select':
          return controller.setTool('select');
        case 'tool-wl':
          return controller.setTool('wl');
        case 'tool-pan':
          return controller.setTool('pan');
        case 'labels':
          return actions.editLabels();
        default: {
          const never: never = command;
          throw new Error(`unhandled command ${String(never)}`);
        }
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });
}
