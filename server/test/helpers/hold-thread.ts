/** Keeps this thread busy for `ms`: a stalled event loop (of the server, when it runs here). */
export function holdThread(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}
