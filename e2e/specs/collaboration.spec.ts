import type { Browser, BrowserContext } from '@playwright/test';
import { YjsLink } from '../fixtures/network.js';
import { type Panel, type PanelUser, expect, test } from '../fixtures/panel.js';
import { ReadingPage } from '../pages/reading-page.js';

/** One browser context per reader: separate storage, separate IndexedDB, separate sockets. */
async function reader(browser: Browser, panel: Panel, user: PanelUser, opts: { link?: boolean } = {}) {
  const context: BrowserContext = await browser.newContext();
  const page = await context.newPage();
  const link = opts.link ? await YjsLink.install(page) : undefined;
  const reading = new ReadingPage(page);
  await reading.login(user.username, user.password);
  await reading.open(panel.sessionId, panel.scanId);
  return { context, page, reading, link };
}

test.describe('two readers on one scan', () => {
  test('draw, label, see, move, toggle a global label, and reload keeps everything', async ({
    browser,
    panel,
  }) => {
    const a = await reader(browser, panel, panel.readerA);
    const b = await reader(browser, panel, panel.readerB);

    // A draws a box and gives it two labels; B sees it with the same labels and geometry.
    await a.reading.drawBox({ x_min: 600, y_min: 700, x_max: 1300, y_max: 1500 }, [
      'Nodule/Mass',
      'Lung Opacity',
    ]);
    await b.reading.expectFindingsCount(1);
    await expect(b.reading.finding(0)).toHaveAttribute('data-labels', 'Nodule/Mass|Lung Opacity');
    await expect(b.reading.finding(0)).toHaveAttribute('data-created-by', panel.readerA.id);
    const drawn = await a.reading.findingBox(0);
    await expect(b.reading.finding(0)).toHaveAttribute(
      'data-box',
      `${drawn.x_min},${drawn.y_min},${drawn.x_max},${drawn.y_max}`,
    );
    // Drawn where it was asked, within a couple of screen pixels (in image pixels).
    const tolerance = 3 * (await a.reading.imagePixelsPerScreenPixel());
    expect(Math.abs(drawn.x_min - 600)).toBeLessThan(tolerance);
    expect(Math.abs(drawn.y_max - 1500)).toBeLessThan(tolerance);

    // B moves it; A sees the new coordinates, same size.
    await b.reading.moveFinding(0, 400, 250);
    await expect
      .poll(async () => (await a.reading.findingBox(0)).x_min, { message: 'A sees the move' })
      .toBeGreaterThan(drawn.x_min + 400 - tolerance);
    const moved = await a.reading.findingBox(0);
    expect(Math.abs(moved.y_min - (drawn.y_min + 250))).toBeLessThan(tolerance);
    expect(moved.x_max - moved.x_min).toBeCloseTo(drawn.x_max - drawn.x_min, 0);
    await expect(b.reading.finding(0)).toHaveAttribute(
      'data-box',
      `${moved.x_min},${moved.y_min},${moved.x_max},${moved.y_max}`,
    );

    // A global label toggles on both.
    await a.reading.toggleGlobal('Pneumonia');
    await expect(b.reading.globalLabel('Pneumonia')).toHaveAttribute('aria-pressed', 'true');
    await b.reading.toggleGlobal('Pneumonia');
    await expect(a.reading.globalLabel('Pneumonia')).toHaveAttribute('aria-pressed', 'false');
    await b.reading.toggleGlobal('COPD');
    await expect(a.reading.globalLabel('COPD')).toHaveAttribute('aria-pressed', 'true');
    // The VinDr rule: with a box on the scan, "No finding" cannot be proposed.
    await expect(a.reading.globalLabel('No finding')).toBeDisabled();

    // Reload keeps everything, for both.
    await a.page.reload();
    await a.reading.waitReady();
    await a.reading.expectFindingsCount(1);
    await expect(a.reading.finding(0)).toHaveAttribute(
      'data-box',
      `${moved.x_min},${moved.y_min},${moved.x_max},${moved.y_max}`,
    );
    await expect(a.reading.globalLabel('COPD')).toHaveAttribute('aria-pressed', 'true');
    await expect(a.reading.globalLabel('Pneumonia')).toHaveAttribute('aria-pressed', 'false');

    // Undo touches only A's own changes: A's box creation is no longer A's last change after the
    // reload (the undo stack is per page), so undo is disabled; B's edits stay.
    await expect(a.page.getByTestId('undo')).toBeDisabled();

    await a.context.close();
    await b.context.close();
  });

  test('an offline edit is kept across a reload and merges after reconnect', async ({ browser, panel }) => {
    const a = await reader(browser, panel, panel.readerA, { link: true });
    const b = await reader(browser, panel, panel.readerB);
    const link = a.link;
    if (!link) throw new Error('no link');

    await link.goOffline();
    await a.reading.expectState('offline');

    // A edits while offline, B edits online at the same time.
    await a.reading.drawBox({ x_min: 300, y_min: 400, x_max: 800, y_max: 900 }, ['Pleural effusion']);
    await b.reading.toggleGlobal('Tuberculosis');
    await b.reading.expectFindingsCount(0);

    // The offline edit survives a reload (IndexedDB), still offline.
    await a.page.reload();
    await expect(a.reading.viewer).toHaveAttribute('data-image-state', /ready|placeholder/);
    await a.reading.expectState('offline');
    await a.reading.expectFindingsCount(1);

    // Back online: both edits on both sides.
    link.goOnline();
    await a.reading.expectState('synced');
    await b.reading.expectFindingsCount(1);
    await expect(b.reading.finding(0)).toHaveAttribute('data-labels', 'Pleural effusion');
    await expect(a.reading.globalLabel('Tuberculosis')).toHaveAttribute('aria-pressed', 'true');

    await a.context.close();
    await b.context.close();
  });

  test('a locked scan is read-only in the UI', async ({ browser, panel }) => {
    const a = await reader(browser, panel, panel.readerA);
    await a.reading.drawBox({ x_min: 1000, y_min: 1000, x_max: 1400, y_max: 1300 }, ['Cardiomegaly']);
    await a.reading.toggleGlobal('Other diseases');

    await panel.lock();
    await a.reading.expectState('locked');
    await expect(a.page.getByTestId('locked-banner')).toBeVisible();
    await expect(a.reading.viewer).toHaveAttribute('data-read-only', 'true');

    // Global labels are disabled, boxes cannot be drawn, moved or deleted.
    await expect(a.reading.globalLabel('COPD')).toBeDisabled();
    await expect(a.reading.globalLabel('Other diseases')).toBeDisabled();
    await expect(a.page.getByTestId('finding-delete')).toHaveCount(0);
    const before = await a.reading.findingBox(0);
    // The Box tool is not offered on a locked scan (and does not look pressed); a drag draws nothing.
    await expect(a.page.getByTestId('tool-draw')).toBeDisabled();
    await expect(a.page.getByTestId('tool-draw')).toHaveAttribute('aria-pressed', 'false');
    await a.reading.drag(await a.reading.imageToPage(200, 200), await a.reading.imageToPage(600, 600));
    await expect(a.page.getByTestId('label-picker')).toHaveCount(0);
    await a.reading.moveFinding(0, 300, 300);
    await a.reading.finding(0).click();
    await a.page.keyboard.press('Delete');
    await a.reading.expectFindingsCount(1);
    expect(await a.reading.findingBox(0)).toEqual(before);

    // A reader who opens the scan after the lock sees it locked too.
    const b = await reader(browser, panel, panel.readerB).catch(async () => {
      throw new Error('reader B could not open the locked scan');
    });
    await b.reading.expectState('locked');
    await expect(b.page.getByTestId('consensus-locked')).toBeVisible();

    await a.context.close();
    await b.context.close();
  });

  test('a refused update discards the local copy, says why and resyncs', async ({ browser, panel }) => {
    const a = await reader(browser, panel, panel.readerA, { link: true });
    const link = a.link;
    if (!link) throw new Error('no link');
    await a.reading.toggleGlobal('COPD');

    // Local-only state the server never saw, then the server refuses: the client must drop it.
    await link.goOffline();
    await a.reading.expectState('offline');
    await a.reading.drawBox({ x_min: 100, y_min: 100, x_max: 500, y_max: 500 }, ['Edema']);
    link.goOnline();
    await a.reading.expectState('synced');
    await a.reading.expectFindingsCount(1);
    await link.serverClose(4422, 'invalid update: finding x: box outside the image');

    await expect(a.page.getByTestId('refused-banner')).toContainText('box outside the image');
    await expect(a.page.getByTestId('refused-banner')).toHaveAttribute('data-code', '4422');
    await a.reading.expectState('synced');
    // The server's copy has the box (it had accepted it); the client resynced rather than
    // looping on a refused change, and still has COPD.
    await expect(a.reading.globalLabel('COPD')).toHaveAttribute('aria-pressed', 'true');
    await a.reading.expectFindingsCount(1);
    await a.context.close();
  });
});
