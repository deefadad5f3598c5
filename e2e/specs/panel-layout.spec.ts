import type { Locator, Page } from '@playwright/test';
import { expect, test } from '../fixtures/panel.js';
import { type Box, ReadingPage, parseBox } from '../pages/reading-page.js';

/**
 * A moderator and five readers (six browser contexts) on one 3000 x 2800 film, at the two
 * window sizes a reading room has (issue 25): presence shows every member, colours are never
 * shared, votes show quorum and ballots and warn before a below-quorum close, readers are told
 * a vote opened and the box is marked, chips never cover each other and keep a dark backing,
 * the Box tool draws over another's box without moving it, and with six findings and the lock
 * confirmation open the page still does not scroll: the film stays whole in the window.
 * Every wait is on a data attribute the UI publishes (docs/UI.md).
 */

test.use({ panelReaders: 5 });
// About 40 s per size on a quiet host; six contexts on two busy cores take longer.
test.setTimeout(240_000);

interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}
interface DrawnBox {
  readonly id: string;
  readonly status: 'accepted' | 'rejected' | 'voting' | 'undecided';
  readonly color: string;
  readonly box: Rect;
  readonly chip?: Rect;
}

const overlap = (a: Rect, b: Rect) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

async function layoutOf(page: Page): Promise<DrawnBox[]> {
  const raw = await page.getByTestId('box-layout').getAttribute('data-layout');
  return JSON.parse(raw ?? '[]') as DrawnBox[];
}

async function statusOf(page: Page, id: string): Promise<string | undefined> {
  return (await layoutOf(page)).find((b) => b.id === id)?.status;
}

/** The page fits its window: nothing below the fold, the film and toolbar fully visible. */
async function expectFits(page: Page, viewport: { width: number; height: number }): Promise<void> {
  const size = await page.evaluate(() => ({
    scrollHeight: document.documentElement.scrollHeight,
    scrollWidth: document.documentElement.scrollWidth,
    innerHeight: window.innerHeight,
    innerWidth: window.innerWidth,
  }));
  expect(size.scrollHeight, 'the page scrolls vertically').toBeLessThanOrEqual(size.innerHeight);
  expect(size.scrollWidth, 'the page scrolls sideways').toBeLessThanOrEqual(size.innerWidth);
  for (const id of ['viewer', 'tool-draw']) {
    const box = await page.getByTestId(id).boundingBox();
    if (!box) throw new Error(`${id} is not visible`);
    expect(box.y, `${id} starts above the window`).toBeGreaterThanOrEqual(0);
    expect(box.y + box.height, `${id} ends below the window`).toBeLessThanOrEqual(viewport.height + 0.5);
  }
}

/**
 * Mean luminance (0-255) of a screen rectangle as the user sees it: a screenshot decoded in the
 * page itself (the film canvas and the annotation layer composited by Chromium).
 */
async function meanLuminance(page: Page, clip: Rect): Promise<number> {
  const png = await page.screenshot({ clip });
  return page.evaluate(async (b64) => {
    // Built from the bytes, not fetched: the app's CSP allows no data: URLs.
    const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    const blob = new Blob([bytes], { type: 'image/png' });
    const bitmap = await createImageBitmap(blob);
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2d context');
    ctx.drawImage(bitmap, 0, 0);
    const { data } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
    let sum = 0;
    for (let i = 0; i < data.length; i += 4) {
      sum += 0.2126 * (data[i] ?? 0) + 0.7152 * (data[i + 1] ?? 0) + 0.0722 * (data[i + 2] ?? 0);
    }
    return sum / (data.length / 4);
  }, png.toString('base64'));
}

const findingOf = (page: Page, id: string): Locator =>
  page.locator(`[data-testid="finding-item"][data-finding-id="${id}"]`);

for (const viewport of [
  { width: 1366, height: 768 },
  { width: 1920, height: 1080 },
]) {
  test(`R-LOCK-7 at ${viewport.width} x ${viewport.height}: a five-reader panel fits, shows everyone in distinct colours, votes with quorum, and locks only with a global label`, async ({
    browser,
    panel,
  }) => {
    const members = [panel.moderator, ...panel.readers];
    const pages = await Promise.all(members.map((m) => ReadingPage.signedIn(browser, m, { viewport })));
    const [mod, a, b, c, d, e] = pages;
    if (!mod || !a || !b || !c || !d || !e) throw new Error('six members expected');
    const readers = [a, b, c, d, e];
    await Promise.all(pages.map((p) => p.reading.open(panel.sessionId, panel.scanId)));
    for (const p of pages)
      await expect(p.page.getByTestId('panel-status')).toHaveAttribute('data-panel-state', 'connected');
    await expect(mod.page.getByTestId('presence-bar')).toHaveAttribute('data-online-count', '5');
    await expect(a.page.getByTestId('presence-bar')).toHaveAttribute('data-online-count', '5');

    // Presence: every member is either a whole chip inside the bar or an item of the "+N" menu.
    for (const p of [mod, a]) {
      const bar = await p.page.getByTestId('presence-bar').boundingBox();
      if (!bar) throw new Error('no presence bar');
      const chips = p.page.locator('[data-testid="presence-bar"] > li');
      await expect(chips).toHaveCount(6);
      const shown: string[] = [];
      const clipped: string[] = [];
      for (const chip of await chips.all()) {
        const id = (await chip.getAttribute('data-user-id')) ?? '';
        if ((await chip.getAttribute('data-overflow')) === 'true') {
          clipped.push(id);
          continue;
        }
        shown.push(id);
        const box = await chip.boundingBox();
        if (!box) throw new Error(`chip ${id} is not visible`);
        expect(box.x + box.width, `chip ${id} is cut by the bar's edge`).toBeLessThanOrEqual(
          bar.x + bar.width + 0.5,
        );
      }
      if (clipped.length > 0) {
        const more = p.page.getByTestId('presence-overflow');
        await expect(more).toHaveText(`+${clipped.length}`);
        await more.click();
        const items = p.page.getByTestId('presence-overflow-item');
        await expect(items).toHaveCount(clipped.length);
        expect(await items.evaluateAll((els) => els.map((el) => el.getAttribute('data-user-id')))).toEqual(
          clipped,
        );
        await more.click();
      } else {
        await expect(p.page.getByTestId('presence-overflow')).toHaveCount(0);
      }
      expect([...shown, ...clipped].sort()).toEqual(members.map((m) => m.id).sort());
    }

    // Colours: six members, six colours, and every client agrees on whose is whose.
    const colours = async (p: Page) =>
      Object.fromEntries(
        await p
          .locator('[data-testid="presence-bar"] > li')
          .evaluateAll((els) =>
            els.map((el) => [el.getAttribute('data-user-id'), el.getAttribute('data-color')]),
          ),
      ) as Record<string, string>;
    const modColours = await colours(mod.page);
    expect(new Set(Object.values(modColours)).size).toBe(6);
    expect(await colours(e.page)).toEqual(modColours);

    // Six findings in a cluster low on the film (bright there), so chips compete for room.
    const boxes: Array<[{ reading: ReadingPage }, Box]> = [
      [a, { x_min: 600, y_min: 1900, x_max: 1400, y_max: 2500 }],
      [a, { x_min: 1800, y_min: 1950, x_max: 2400, y_max: 2450 }],
      [c, { x_min: 640, y_min: 1940, x_max: 1300, y_max: 2400 }],
      [d, { x_min: 680, y_min: 1980, x_max: 1200, y_max: 2350 }],
      [e, { x_min: 1850, y_min: 1990, x_max: 2350, y_max: 2400 }],
    ];
    for (const [i, [p, box]] of boxes.entries()) {
      await p.reading.drawBox(box, ['Nodule/Mass']);
      await mod.reading.expectFindingsCount(i + 1);
    }
    // B's drag starts inside A's first box: the Box tool draws a new box, A's stays put.
    const aFirst = mod.page
      .locator(`[data-testid="finding-item"][data-created-by="${panel.readers[0]!.id}"]`)
      .first();
    const aBoxBefore = await aFirst.getAttribute('data-box');
    await b.reading.drawBox({ x_min: 900, y_min: 2100, x_max: 1700, y_max: 2650 }, ['Pleural effusion']);
    for (const p of pages) await p.reading.expectFindingsCount(6);
    await expect(aFirst).toHaveAttribute('data-box', aBoxBefore ?? '');
    const bBox = parseBox(
      await mod.page
        .locator(`[data-testid="finding-item"][data-created-by="${panel.readers[1]!.id}"]`)
        .getAttribute('data-box'),
    );
    expect(bBox.x_min).toBeGreaterThan(850);
    expect(bBox.y_max).toBeGreaterThan(2600);

    // The legend lists every member in their colour, and hides one reader's boxes on request.
    const legend = mod.page.getByTestId('legend-item');
    for (const m of members) {
      await expect(mod.page.locator(`[data-testid="legend-item"][data-user-id="${m.id}"]`)).toHaveAttribute(
        'data-color',
        modColours[m.id] ?? '',
      );
    }
    expect(await legend.count()).toBeGreaterThanOrEqual(6);
    const aLegend = mod.page.locator(`[data-testid="legend-item"][data-user-id="${panel.readers[0]!.id}"]`);
    await aLegend.getByTestId('legend-toggle').click();
    await expect(aLegend).toHaveAttribute('data-hidden', 'true');
    await expect.poll(async () => (await layoutOf(mod.page)).length).toBe(4);
    await mod.reading.expectFindingsCount(6);
    await aLegend.getByTestId('legend-toggle').click();
    await expect(aLegend).toHaveAttribute('data-hidden', 'false');
    await expect.poll(async () => (await layoutOf(mod.page)).length).toBe(6);

    // Chips: none covers another, each inside the viewer, each on a dark backing over a bright film.
    const viewer = await mod.reading.viewer.boundingBox();
    if (!viewer) throw new Error('no viewer');
    const drawn = await layoutOf(mod.page);
    expect(drawn).toHaveLength(6);
    for (const [i, x] of drawn.entries()) {
      if (!x.chip) throw new Error(`box ${x.id} has no chip`);
      expect(x.color).toBe(
        modColours[(await findingOf(mod.page, x.id).getAttribute('data-created-by')) ?? ''],
      );
      expect(x.chip.x).toBeGreaterThanOrEqual(0);
      expect(x.chip.y).toBeGreaterThanOrEqual(0);
      expect(x.chip.x + x.chip.width).toBeLessThanOrEqual(viewer.width + 0.5);
      for (const y of drawn.slice(i + 1)) {
        if (y.chip) expect(overlap(x.chip, y.chip), `chips of ${x.id} and ${y.id} overlap`).toBe(false);
      }
    }
    const chip = drawn[0]?.chip;
    if (!chip) throw new Error('no chip');
    const onScreen = { x: viewer.x + chip.x, y: viewer.y + chip.y, width: chip.width, height: chip.height };
    // The film beside it: the same rows (the test film's brightness changes only with the row),
    // just right of every box and chip, so nothing drawn is in the sample.
    const clearX = Math.max(
      ...drawn.flatMap((d) => [d.box.x + d.box.width, (d.chip?.x ?? 0) + (d.chip?.width ?? 0)]),
    );
    const film = { x: viewer.x + clearX + 12, y: onScreen.y, width: 16, height: chip.height };
    expect(film.x + film.width, 'no clear film right of the cluster').toBeLessThan(viewer.x + viewer.width);
    const chipLum = await meanLuminance(mod.page, onScreen);
    const filmLum = await meanLuminance(mod.page, film);
    expect(filmLum, 'the film beside the chip should be bright').toBeGreaterThan(90);
    expect(chipLum, 'a chip keeps its dark backing').toBeLessThan(filmLum - 60);

    // A vote on C's box: quorum shown, ballots for the moderator, readers told, the box marked.
    const cId =
      (await mod.page
        .locator(`[data-testid="finding-item"][data-created-by="${panel.readers[2]!.id}"]`)
        .getAttribute('data-finding-id')) ?? '';
    await findingOf(mod.page, cId).getByTestId('vote-open').click();
    await expect(findingOf(mod.page, cId).getByTestId('vote-quorum')).toContainText(/needs \d+ agree/);
    await expect(findingOf(mod.page, cId).getByTestId('vote-ballot')).toHaveCount(5);
    for (const r of readers) {
      await expect(r.page.getByTestId('vote-opened')).toBeVisible();
      await expect.poll(() => statusOf(r.page, cId)).toBe('voting');
    }
    for (const r of [a, b]) {
      await r.page.getByTestId('vote-opened-show').click();
      await findingOf(r.page, cId).getByTestId('vote-agree').click();
      await expect(findingOf(r.page, cId).getByTestId('vote-agree')).toHaveAttribute('aria-pressed', 'true');
      // Voting answers the notice.
      await expect(r.page.getByTestId('vote-opened')).toHaveCount(0);
    }
    await expect(
      findingOf(mod.page, cId).locator('[data-testid="vote-ballot"][data-choice="agree"]'),
    ).toHaveCount(2);
    // Two agree of the quorum: closing now would reject, so the moderator is warned first.
    await findingOf(mod.page, cId).getByTestId('vote-close').click();
    const warning = findingOf(mod.page, cId).getByTestId('vote-close-warning');
    await expect(warning).toContainText('rejects');
    await expect(warning).toContainText(panel.readers[2]!.username);
    await expect(findingOf(mod.page, cId).getByTestId('vote-tally')).toHaveAttribute('data-state', 'open');
    await findingOf(mod.page, cId).getByTestId('vote-close-confirm').click();
    for (const p of [mod, c]) await expect.poll(() => statusOf(p.page, cId)).toBe('rejected');
    // One accepted directly: accepted, rejected and undecided boxes are told apart on the image.
    const eId =
      (await mod.page
        .locator(`[data-testid="finding-item"][data-created-by="${panel.readers[4]!.id}"]`)
        .getAttribute('data-finding-id')) ?? '';
    await findingOf(mod.page, eId).getByTestId('decide-accept').click();
    await expect.poll(() => statusOf(b.page, eId)).toBe('accepted');
    expect(new Set((await layoutOf(b.page)).map((x) => x.status))).toEqual(
      new Set(['accepted', 'rejected', 'undecided']),
    );

    // The lock confirmation with six findings: nothing scrolls, and without an accepted global
    // label the lock cannot be confirmed (R-LOCK-7), with the reason on screen.
    await mod.page.getByTestId('lock-scan').click();
    await expect(mod.page.getByTestId('lock-needs-global')).toBeVisible();
    await expect(mod.page.getByTestId('lock-confirm')).toBeDisabled();
    await mod.page.getByTestId('lock-reject-undecided').check();
    await expect(mod.page.getByTestId('lock-confirm')).toBeDisabled();
    for (const p of pages) await expectFits(p.page, viewport);

    // Collapsing the side panels gives the film the width.
    const before = (await mod.reading.viewer.boundingBox())?.width ?? 0;
    await mod.page.getByTestId('toggle-side').click();
    await expect(mod.page.getByTestId('side-panels')).toBeHidden();
    await expect
      .poll(async () => (await mod.reading.viewer.boundingBox())?.width ?? 0)
      .toBeGreaterThan(before + 100);
    await mod.page.getByTestId('toggle-side').click();
    await expect(mod.page.getByTestId('side-panels')).toBeVisible();

    // A reader proposes "Other diseases", the moderator accepts it: now the lock goes through.
    await d.reading.toggleGlobal('Other diseases');
    const other = mod.page.locator('[data-testid="global-consensus"][data-label="Other diseases"]');
    await other.getByTestId('decide-accept').click();
    await expect(other.getByTestId('decision-badge')).toHaveAttribute('data-outcome', 'accepted');
    if (!(await mod.page.getByTestId('lock-confirm').isVisible()))
      await mod.page.getByTestId('lock-scan').click();
    await expect(mod.page.getByTestId('lock-needs-global')).toHaveCount(0);
    await mod.page.getByTestId('lock-reject-undecided').check();
    await mod.page.getByTestId('lock-confirm').click();
    for (const p of pages) {
      await p.reading.expectState('locked');
      await expect(p.page.getByTestId('tool-draw')).toBeDisabled();
      await expect(p.page.getByTestId('tool-draw')).toHaveAttribute('aria-pressed', 'false');
    }
    await expect(mod.page.getByTestId('consensus-boxes')).toHaveAttribute('data-accepted', '1');
    await expect(mod.page.getByTestId('consensus-globals')).toHaveAttribute('data-labels', 'Other diseases');
    for (const p of pages) await expectFits(p.page, viewport);

    // A reader who leaves is shown offline, without the follow arrow.
    const eChip = mod.page.locator(`[data-testid="presence-member"][data-user-id="${panel.readers[4]!.id}"]`);
    await expect(eChip.locator('.follow-mark')).toHaveCount(1);
    await e.context.close();
    await expect(eChip).toHaveAttribute('data-online', 'false', { timeout: 20_000 });
    await expect(eChip.locator('.follow-mark')).toHaveCount(0);

    await Promise.all(pages.filter((p) => p !== e).map((p) => p.context.close()));
  });
}
