import { useState } from 'react';

function read(key: string, fallback: boolean): boolean {
  try {
    const v = globalThis.localStorage?.getItem(key);
    return v === null || v === undefined ? fallback : v === 'true';
  } catch {
    return fallback;
  }
}

/** A yes/no layout choice (a panel open or collapsed) that this browser remembers. */
export function useStoredFlag(key: string, fallback: boolean): [boolean, (value: boolean) => void] {
  const [value, setValue] = useState(() => read(key, fallback));
  return [
    value,
    (next) => {
      setValue(next);
      try {
        globalThis.localStorage?.setItem(key, String(next));
      } catch {
        // Private mode without storage: the choice lasts for this page only.
      }
    },
  ];
}
