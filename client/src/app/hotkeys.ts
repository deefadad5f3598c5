/**
 * OHIF-style reading hotkeys, one table for the handler and the help overlay.
 */
export type Command =
  | 'invert'
  | 'reset'
  | 'preset-1'
  | 'preset-2'
  | 'preset-3'
  | 'preset-4'
  | 'preset-auto'
  | 'flip-h'
  | 'flip-v'
  | 'undo'
  | 'redo'
  | 'delete'
  | 'deselect'
  | 'help'
  | 'tool-draw'
  | 'tool-select'
  | 'tool-wl'
  | 'tool-pan'
  | 'labels'
  | 'fit'
  | 'one-to-one'
  | 'zoom-in'
  | 'zoom-out';

export interface Hotkey {
  readonly keys: string;
  readonly command: Command;
  readonly help: string;
}

export const HOTKEYS: readonly Hotkey[] = [
  { keys: 'I', command: 'invert', help: 'Invert greys' },
  { keys: 'Space', command: 'reset', help: 'Reset view (fit, default window, no flip or invert)' },
  { keys: '1', command: 'preset-1', help: "Window: the file's own (or auto)" },
  { keys: '2', command: 'preset-2', help: 'Window: lung' },
  { keys: '3', command: 'preset-3', help: 'Window: mediastinum' },
  { keys: '4', command: 'preset-4', help: 'Window: bone' },
  { keys: 'A', command: 'preset-auto', help: 'Window: histogram auto' },
  { keys: 'H', command: 'flip-h', help: 'Flip horizontally' },
  { keys: 'V', command: 'flip-v', help: 'Flip vertically' },
  { keys: 'F', command: 'fit', help: 'Zoom to fit' },
  { keys: 'Z', command: 'one-to-one', help: 'Zoom 1:1 (one image pixel per screen pixel)' },
  { keys: '+ / -', command: 'zoom-in', help: 'Zoom in / out (or the mouse wheel)' },
  { keys: 'B', command: 'tool-draw', help: 'Tool: draw boxes' },
  { keys: 'S', command: 'tool-select', help: 'Tool: select and move' },
  { keys: 'W', command: 'tool-wl', help: 'Tool: window/level drag (right button always does it)' },
  { keys: 'P', command: 'tool-pan', help: 'Tool: pan (middle button always does it)' },
  { keys: 'L or Enter', command: 'labels', help: 'Edit the labels of the selected box' },
  { keys: 'Delete', command: 'delete', help: 'Delete the selected box' },
  { keys: 'Esc', command: 'deselect', help: 'Deselect / close' },
  { keys: 'Ctrl+Z', command: 'undo', help: 'Undo your last change' },
  { keys: 'Ctrl+Shift+Z', command: 'redo', help: 'Redo' },
  { keys: '?', command: 'help', help: 'Show or hide this help' },
];

export interface KeyLike {
  readonly key: string;
  readonly ctrlKey: boolean;
  readonly metaKey: boolean;
  readonly shiftKey: boolean;
  readonly altKey: boolean;
}

/** Maps a key event to a command; undefined leaves the key to the browser. */
export function commandFor(e: KeyLike): Command | undefined {
  const mod = e.ctrlKey || e.metaKey;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (mod && !e.altKey) {
    if (key === 'z') return e.shiftKey ? 'redo' : 'undo';
    if (key === 'y') return 'redo';
    return undefined;
  }
  if (e.altKey) return undefined;
  switch (key) {
    case 'i':
      return 'invert';
    case ' ':
      return 'reset';
    case '1':
      return 'preset-1';
    case '2':
      return 'preset-2';
    case '3':
      return 'preset-3';
    case '4':
      return 'preset-4';
    case 'a':
      return 'preset-auto';
    case 'h':
      return 'flip-h';
    case 'v':
      return 'flip-v';
    case 'f':
      return 'fit';
    case 'z':
      return 'one-to-one';
    case '+':
    case '=':
      return 'zoom-in';
    case '-':
      return 'zoom-out';
    case 'b':
      return 'tool-draw';
    case 's':
      return 'tool-select';
    case 'w':
      return 'tool-wl';
    case 'p':
      return 'tool-pan';
    case 'l':
    case 'Enter':
      return 'labels';
    case 'Delete':
    case 'Backspace':
      return 'delete';
    case 'Escape':
      return 'deselect';
    case '?':
      return 'help';
    default:
      return undefined;
  }
}

/** Keys typed into inputs belong to the input, except Escape. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  const tag = target.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || target.isContentEditable;
}
