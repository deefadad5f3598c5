import { describe, expect, it } from 'vitest';
import { commandFor } from './hotkeys.js';

const key = (
  k: string,
  mods: Partial<{ ctrlKey: boolean; shiftKey: boolean; metaKey: boolean; altKey: boolean }> = {},
) => ({
  key: k,
  ctrlKey: false,
  metaKey: false,
  shiftKey: false,
  altKey: false,
  ...mods,
});

describe('hotkeys', () => {
  it('maps the OHIF-style keys', () => {
    expect(commandFor(key('i'))).toBe('invert');
    expect(commandFor(key(' '))).toBe('reset');
    expect(commandFor(key('3'))).toBe('preset-3');
    expect(commandFor(key('H', { shiftKey: true }))).toBe('flip-h');
    expect(commandFor(key('Delete'))).toBe('delete');
  });

  it('maps undo and redo with ctrl or cmd', () => {
    expect(commandFor(key('z', { ctrlKey: true }))).toBe('undo');
    expect(commandFor(key('Z', { ctrlKey: true, shiftKey: true }))).toBe('redo');
    expect(commandFor(key('z', { metaKey: true }))).toBe('undo');
    expect(commandFor(key('c', { ctrlKey: true }))).toBeUndefined();
  });
});
