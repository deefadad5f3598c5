import type { LocalLabel } from '@cxr/shared';
import { useEffect, useRef, useState } from 'react';
import { filterLabels } from './label-filter.js';

/**
 * The 22 local labels with type-ahead. Keyboard: type to filter, Up/Down to move, Enter to
 * toggle the highlighted label (a box may carry several), Escape or Ctrl+Enter to close.
 */
export function LabelPicker({
  selected,
  anchor,
  title,
  onToggle,
  onClose,
}: {
  selected: readonly LocalLabel[];
  anchor: { x: number; y: number };
  title: string;
  onToggle: (label: LocalLabel) => void;
  onClose: () => void;
}) {
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const inputRef = useRef<HTMLInputElement>(null);
  const listRef = useRef<HTMLUListElement>(null);
  const options = filterLabels(query);
  const current = Math.min(active, Math.max(0, options.length - 1));

  useEffect(() => {
    inputRef.current?.focus();
  }, []);

  useEffect(() => {
    listRef.current
      ?.querySelector<HTMLElement>(`[data-index="${current}"]`)
      ?.scrollIntoView({ block: 'nearest' });
  }, [current]);

  const onKeyDown = (e: React.KeyboardEvent) => {
    e.stopPropagation();
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      setActive((current + 1) % Math.max(1, options.length));
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      setActive((current - 1 + options.length) % Math.max(1, options.length));
    } else if (e.key === 'Enter') {
      e.preventDefault();
      if (e.ctrlKey || e.metaKey) {
        onClose();
        return;
      }
      const label = options[current];
      if (label) {
        onToggle(label);
        setQuery('');
        setActive(0);
      }
    } else if (e.key === 'Escape') {
      e.preventDefault();
      onClose();
    }
  };

  return (
    <div
      className="label-picker"
      data-testid="label-picker"
      role="dialog"
      aria-label={title}
      style={{ left: anchor.x, top: anchor.y }}
      onKeyDown={onKeyDown}
      onMouseDown={(e) => e.stopPropagation()}
    >
      <div className="label-picker-head">
        <span>{title}</span>
        <button type="button" className="ghost" data-testid="label-picker-done" onClick={onClose}>
          Done
        </button>
      </div>
      <input
        ref={inputRef}
        data-testid="label-search"
        placeholder="Type to filter labels…"
        value={query}
        aria-controls="label-options"
        onChange={(e) => {
          setQuery(e.target.value);
          setActive(0);
        }}
      />
      <ul id="label-options" ref={listRef} aria-label="Local labels">
        {options.map((label, i) => {
          const on = selected.includes(label);
          return (
            <li key={label} data-index={i}>
              <button
                type="button"
                tabIndex={-1}
                id={`label-opt-${i}`}
                aria-pressed={on}
                data-testid="label-option"
                data-label={label}
                className={`${i === current ? 'active' : ''} ${on ? 'on' : ''}`}
                onMouseEnter={() => setActive(i)}
                onClick={() => onToggle(label)}
              >
                <span className="check">{on ? '✓' : ''}</span>
                {label}
              </button>
            </li>
          );
        })}
        {options.length === 0 && <li className="empty">No label matches “{query}”</li>}
      </ul>
      <div className="label-picker-foot">
        {selected.length === 0 ? 'Pick at least one label to keep the box' : `${selected.length} selected`} ·
        Enter toggles · Esc closes
      </div>
    </div>
  );
}
