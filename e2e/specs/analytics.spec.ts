import { readFileSync } from 'node:fs';
import type { APIRequestContext, Locator, Page } from '@playwright/test';
import { jsonOf } from '../fixtures/api.js';
import { BASE_URL } from '../fixtures/env.js';
import { expect, test } from '../fixtures/panel.js';
import { ReadingPage } from '../pages/reading-page.js';

/**
 * Reading analytics end to end (issue 23): two readers read the same scan in real Chromium and
 * their clients report over the real live panel; one changes the window preset before drawing,
 * the other draws with the file's window and leaves early (signing out flushes their last
 * batch). The moderator decides, opens the analytics, locks, and the view updates by itself:
 * reading-time order, the preset each box was drawn in, survival and F1. The CSV (route and
 * download button) reads back the same numbers, and a reader asking gets only their own rows.
 */

test.use({ panelReaders: 2, panelScans: 1 });
test.setTimeout(90_000);

const CSV_COLUMNS =
  'session_id,scan_id,reader_id,username,active_ms,time_to_first_finding_ms,findings,survived,consensus_findings,precision,recall,f1,global_agreement,tool_uses,tools';

type Json = Record<string, unknown>;

async function analyticsAs(request: APIRequestContext, sessionId: string, token: string, csv = false) {
  const response = await request.get(
    `${BASE_URL}/api/sessions/${sessionId}/analytics${csv ? '?format=csv' : ''}`,
    { headers: { authorization: `Bearer ${token}` } },
  );
  return response;
}

function rowsOf(body: Json): Json[] {
  return body.rows as Json[];
}

/** Plain RFC 4180 for what this CSV holds (no field here contains a comma or a quote). */
function parseCsv(text: string): Record<string, string>[] {
  const [header, ...lines] = text.trim().split(/\r?\n/);
  expect(header).toBe(CSV_COLUMNS);
  const names = CSV_COLUMNS.split(',');
  return lines.map((line) => {
    const cells = line.split(',');
    expect(cells).toHaveLength(names.length);
    return Object.fromEntries(names.map((n, i) => [n, cells[i] ?? '']));
  });
}

const readerRow = (page: Page, id: string): Locator =>
  page.locator(`[data-testid="analytics-reader"][data-reader-id="${id}"]`);

test('R-ANALYTICS-1, R-ANALYTICS-2, R-ANALYTICS-5..9: reading time, preset and survival reach the moderator live, and the CSV agrees', async ({
  browser,
  request,
  panel,
}) => {
  const { readerA, readerB, moderator, sessionId, scanId } = panel;
  const [mod, a, b] = await Promise.all(
    [moderator, readerA, readerB].map((m) => ReadingPage.signedIn(browser, m)),
  );
  if (!mod || !a || !b) throw new Error('three members expected');
  // B's wall time on the scan, from before the page is asked for until after signing out.
  const bOpened = Date.now();
  await Promise.all([mod, a, b].map((p) => p.reading.open(sessionId, scanId)));
  for (const p of [mod, a, b])
    await expect(p.page.getByTestId('panel-status')).toHaveAttribute('data-panel-state', 'connected');

  // A switches to the lung window before drawing; B draws in the file's own window.
  await a.page.getByTestId('preset-lung').click();
  await expect(a.page.getByTestId('preset-lung')).toHaveClass(/\bon\b/);
  await a.reading.drawBox({ x_min: 700, y_min: 800, x_max: 1300, y_max: 1400 }, ['Nodule/Mass']);
  await a.reading.toggleGlobal('Other diseases');
  await b.reading.drawBox({ x_min: 2000, y_min: 300, x_max: 2500, y_max: 700 }, ['Nodule/Mass']);

  // B leaves: signing out sends what is still pending, and B's clock stops there.
  await b.page.getByTestId('sign-out').click();
  await expect(b.page.getByTestId('login-form')).toBeVisible();
  const bWallMs = Date.now() - bOpened;

  // A keeps reading a while longer (pointer input over the film), so A reads clearly longer.
  const film = await a.reading.imageToPage(1500, 1400);
  for (let i = 0; i < 6; i++) {
    await a.page.mouse.move(film.x + i * 7, film.y + i * 5);
    await a.page.waitForTimeout(1000);
  }

  // The moderator keeps A's box, rejects B's, and accepts the global label (a lock needs one).
  const modFinding = (authorId: string) =>
    mod.page.locator(`[data-testid="finding-item"][data-created-by="${authorId}"]`);
  await expect(modFinding(readerA.id)).toHaveCount(1);
  await expect(modFinding(readerB.id)).toHaveCount(1);
  await modFinding(readerA.id).getByTestId('decide-accept').click();
  await expect(modFinding(readerA.id)).toHaveAttribute('data-decision', 'accepted');
  await modFinding(readerB.id).getByTestId('decide-reject').click();
  await expect(modFinding(readerB.id)).toHaveAttribute('data-decision', 'rejected');
  const global = mod.page.locator('[data-testid="global-consensus"][data-label="Other diseases"]');
  await global.getByTestId('decide-accept').click();
  await expect(global.getByTestId('decision-badge')).toHaveAttribute('data-outcome', 'accepted');

  // The analytics before the lock: reading time per reader, in order; nothing survives yet.
  await mod.page.getByTestId('analytics-open').click();
  const view = mod.page.getByTestId('analytics-view');
  await expect(view).toHaveAttribute('data-loaded', 'true');
  await expect(view).toHaveAttribute('data-scope', 'all');
  await expect(readerRow(mod.page, readerA.id)).toHaveAttribute('data-rank', '1');
  await expect(readerRow(mod.page, readerB.id)).toHaveAttribute('data-rank', '2');
  await expect(readerRow(mod.page, readerA.id)).toHaveAttribute('data-survival', '');
  const timePlot = view.locator('[data-testid="analytics-plot"][data-plot="reading-time"]');
  await expect(timePlot).toHaveAttribute('data-points', '2');
  await expect(timePlot.locator('svg')).not.toHaveCount(0);
  await expect(view.locator('[data-plot="scores"]')).toHaveAttribute('data-points', '0');

  // Whether a box survived is only known once its scan is locked: no W/L points yet.
  const wlOf = (id: string) => view.locator(`[data-testid="analytics-wl-point"][data-reader-id="${id}"]`);
  await expect(view.locator('[data-plot="wl"]')).toHaveAttribute('data-points', '0');

  // The moderator locks (with the view open): the lock event refreshes it by itself.
  await panel.lock();
  // (The 8 s refresh would catch it too: allow for one in a slow run.)
  await expect(readerRow(mod.page, readerA.id)).toHaveAttribute('data-survival', '1', { timeout: 15_000 });
  await expect(readerRow(mod.page, readerA.id)).toHaveAttribute('data-f1', '1');
  await expect(readerRow(mod.page, readerB.id)).toHaveAttribute('data-survival', '0');
  await expect(readerRow(mod.page, readerB.id)).toHaveAttribute('data-f1', '0');
  // The preset each box was drawn in, and whether it survived.
  await expect(wlOf(readerA.id)).toHaveAttribute('data-preset', 'lung');
  await expect(wlOf(readerB.id)).toHaveAttribute('data-preset', 'default');
  await expect(wlOf(readerA.id)).toHaveAttribute('data-outcome', 'survived');
  await expect(wlOf(readerB.id)).toHaveAttribute('data-outcome', 'rejected');
  await expect(view.locator('[data-plot="scores"]')).toHaveAttribute('data-points', '4');
  await expect(view.locator('[data-plot="wl"]')).toHaveAttribute('data-points', '2');
  await expect(view.locator('[data-plot="wl"] svg')).not.toHaveCount(0);

  // A leaves too; once the last batch is in, the figures stop moving.
  await a.page.getByTestId('sign-out').click();
  await expect(a.page.getByTestId('login-form')).toBeVisible();
  let settled: Json[] = [];
  await expect
    .poll(
      async () => {
        const before = JSON.stringify(settled);
        settled = rowsOf(await jsonOf(await analyticsAs(request, sessionId, moderator.token)));
        return before === JSON.stringify(settled);
      },
      { intervals: [1500], timeout: 20_000 },
    )
    .toBe(true);
  const activeOf = (id: string) => Number(settled.find((r) => r.readerId === id)?.activeMs);
  const aMs = activeOf(readerA.id);
  const bMs = activeOf(readerB.id);
  // B's time is real reading, never more than B was on the page (idle is not invented).
  expect(bMs).toBeGreaterThan(0);
  expect(bMs).toBeLessThanOrEqual(bWallMs);
  expect(aMs).toBeGreaterThan(bMs + 3000);

  // The view, refreshed, shows those numbers.
  await view.getByTestId('analytics-refresh').click();
  await expect(readerRow(mod.page, readerA.id)).toHaveAttribute('data-active-ms', String(aMs));
  await expect(readerRow(mod.page, readerB.id)).toHaveAttribute('data-active-ms', String(bMs));

  // The CSV, fetched with the moderator's credentials, reads back the same numbers...
  const csvResponse = await analyticsAs(request, sessionId, moderator.token, true);
  expect(csvResponse.ok()).toBe(true);
  const csvText = await csvResponse.text();
  const csv = parseCsv(csvText);
  expect(csv).toHaveLength(2);
  for (const row of settled) {
    const line = csv.find((l) => l.reader_id === row.readerId);
    expect(line?.scan_id).toBe(scanId);
    expect(Number(line?.active_ms)).toBe(row.activeMs);
    expect(Number(line?.findings)).toBe(1);
  }
  expect(csv.find((l) => l.reader_id === readerA.id)).toMatchObject({ survived: '1', f1: '1' });
  expect(csv.find((l) => l.reader_id === readerB.id)).toMatchObject({ survived: '0', f1: '0' });
  expect(csv.find((l) => l.reader_id === readerA.id)?.tools).toContain('preset-lung=1');
  // ...and the view's download is the same file.
  const [download] = await Promise.all([
    mod.page.waitForEvent('download'),
    view.getByTestId('analytics-csv').click(),
  ]);
  expect(download.suggestedFilename()).toBe(`analytics-${sessionId}.csv`);
  expect(readFileSync(await download.path(), 'utf8')).toBe(csvText);

  // A reader asking for the session's analytics gets their own rows only (R-ANALYTICS-5).
  for (const reader of [readerA, readerB]) {
    const own = await jsonOf(await analyticsAs(request, sessionId, reader.token));
    expect((own.session as Json).scope).toBe('own');
    expect(rowsOf(own).map((r) => r.readerId)).toEqual([reader.id]);
    expect((own.readers as Json[]).map((r) => r.readerId)).toEqual([reader.id]);
    const ownCsv = parseCsv(await (await analyticsAs(request, sessionId, reader.token, true)).text());
    expect(ownCsv.map((l) => l.reader_id)).toEqual([reader.id]);
  }

  await Promise.all([mod, a, b].map((p) => p.context.close()));
});
