import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { type Locator, type Page, expect as baseExpect } from '@playwright/test';
import { expect, test } from '../fixtures/panel.js';
import { ReadingPage } from '../pages/reading-page.js';

/**
 * Blind, then consensus (issue 6), through the UI in four browser contexts: three readers read
 * the scan alone (none sees another's boxes), mark it done; the moderator watches the progress
 * grid, reveals; the fused proposals show their share and sources, the global labels their
 * tallies; a below-quorum proposal goes from the dispute queue to a vote the readers cast and
 * the moderator closes; the moderator decides the rest, locks (rejecting the undecided) and
 * downloads the exports, which are parsed here. Every wait is on a data attribute.
 */

test.use({ panelReaders: 3, panelScans: 1, panelMode: 'blind' });
test.setTimeout(90_000);

const ANNOTATIONS_TEST_HEADER = 'image_id,class_name,x_min,y_min,x_max,y_max';
const ANNOTATIONS_TRAIN_HEADER = 'image_id,rad_id,class_name,x_min,y_min,x_max,y_max';
const LOCAL = [
  'Aortic enlargement',
  'Atelectasis',
  'Calcification',
  'Cardiomegaly',
  'Clavicle fracture',
  'Consolidation',
  'Edema',
  'Emphysema',
  'Enlarged PA',
  'ILD',
  'Infiltration',
  'Lung Opacity',
  'Lung cavity',
  'Lung cyst',
  'Mediastinal shift',
  'Nodule/Mass',
  'Pleural effusion',
  'Pleural thickening',
  'Pneumothorax',
  'Pulmonary fibrosis',
  'Rib fracture',
  'Other lesion',
];
const IMAGE_LABELS_TEST_HEADER = [
  'image_id',
  ...LOCAL,
  'COPD',
  'Lung tumor',
  'Pneumonia',
  'Tuberculosis',
  'Other disease',
  'No finding',
].join(',');

const byLabels = (page: Page, labels: string): Locator =>
  page.locator(`[data-testid="finding-item"][data-labels="${labels}"]`);

/** Clicks an export button and returns the saved file's bytes (blob URL download). */
async function download(page: Page, testId: string): Promise<Buffer> {
  const button = page.getByTestId(testId);
  await baseExpect(button).toBeEnabled();
  const [file] = await Promise.all([page.waitForEvent('download'), button.click()]);
  await baseExpect(button).toHaveAttribute('data-state', 'done');
  const path = await file.path();
  return readFileSync(path);
}

const lines = (csv: Buffer) => csv.toString('utf8').trimEnd().split('\n');

test('three blind readers, reveal, proposals with sources, a dispute voted, lock and exports', async ({
  browser,
  panel,
}) => {
  const [ra, rb, rc] = panel.readers;
  if (!ra || !rb || !rc) throw new Error('three readers expected');
  const pages = await Promise.all([panel.moderator, ra, rb, rc].map((m) => ReadingPage.signedIn(browser, m)));
  const [mod, a, b, c] = pages;
  if (!mod || !a || !b || !c) throw new Error('four members expected');
  const readers = [a, b, c];
  await Promise.all(pages.map((p) => p.reading.open(panel.sessionId, panel.scanId)));

  // Blind stage: readers see the private-reading banner; the moderator the read-only wait.
  for (const r of readers) await expect(r.page.getByTestId('blind-banner')).toBeVisible();
  await expect(mod.page.getByTestId('blind-wait-banner')).toBeVisible();
  await expect(mod.reading.viewer).toHaveAttribute('data-read-only', 'true');
  const progress = mod.page.getByTestId('blind-progress');
  await expect(progress).toHaveAttribute('data-loaded', 'true');
  await expect(progress).toHaveAttribute('data-done', '0');
  await expect(progress).toHaveAttribute('data-total', '3');
  // Revealing now is allowed but warns: nobody is done yet. The moderator cancels.
  await mod.page.getByTestId('reveal-readings').click();
  await expect(mod.page.getByTestId('reveal-warning')).toHaveAttribute('data-count', '3');
  await mod.page.getByTestId('reveal-cancel').click();
  await expect(mod.page.getByTestId('reveal-confirmation')).toHaveCount(0);
  // No exports yet (nothing locked).
  await expect(mod.page.getByTestId('export-coco')).toBeDisabled();
  await expect(mod.page.getByTestId('exports-reason')).toBeVisible();

  // A reads first; B, on the same scan, does not see A's box.
  await a.reading.drawBox({ x_min: 700, y_min: 800, x_max: 1300, y_max: 1400 }, ['Nodule/Mass']);
  await a.reading.toggleGlobal('Other diseases');
  await a.page.getByTestId('mark-done').click();
  await expect(a.page.getByTestId('mark-done')).toHaveAttribute('aria-pressed', 'true');
  await b.reading.expectFindingsCount(0);
  await b.reading.drawBox({ x_min: 720, y_min: 790, x_max: 1290, y_max: 1420 }, ['Nodule/Mass']);
  await b.reading.expectFindingsCount(1);
  await b.reading.toggleGlobal('Other diseases');
  await b.page.getByTestId('mark-done').click();
  // C draws the same nodule and a box nobody else drew (below quorum after the fusion).
  await c.reading.drawBox({ x_min: 710, y_min: 810, x_max: 1310, y_max: 1390 }, ['Nodule/Mass']);
  await c.reading.drawBox({ x_min: 1900, y_min: 300, x_max: 2300, y_max: 700 }, ['Aortic enlargement']);
  await c.reading.toggleGlobal('Other diseases');
  await c.reading.toggleGlobal('COPD');
  await c.page.getByTestId('mark-done').click();
  await expect(c.page.getByTestId('mark-done')).toHaveAttribute('aria-pressed', 'true');
  await a.reading.expectFindingsCount(1);
  await mod.reading.expectFindingsCount(0);

  // The moderator sees everyone done, then reveals.
  await expect(progress).toHaveAttribute('data-done', '3');
  for (const r of [ra, rb, rc]) {
    await expect(
      progress.locator(`[data-testid="blind-progress-cell"][data-user-id="${r.id}"]`),
    ).toHaveAttribute('data-done', 'true');
  }
  await mod.page.getByTestId('reveal-readings').click();
  await expect(mod.page.getByTestId('reveal-confirmation')).toBeVisible();
  await expect(mod.page.getByTestId('reveal-warning')).toHaveCount(0);
  await mod.page.getByTestId('reveal-confirm').click();

  // Everyone lands on the shared document with the two proposals (readers notice the reveal
  // through the session poll).
  for (const p of pages) {
    await p.reading.expectFindingsCount(2);
    await p.reading.waitReady('synced');
    await expect(p.page.getByTestId('blind-banner')).toHaveCount(0);
  }
  const nodule = byLabels(mod.page, 'Nodule/Mass');
  await expect(nodule.getByTestId('fusion-share')).toHaveAttribute('data-count', '3');
  await expect(nodule.getByTestId('fusion-share')).toHaveAttribute('data-total', '3');
  await expect(byLabels(mod.page, 'Aortic enlargement').getByTestId('fusion-share')).toHaveAttribute(
    'data-count',
    '1',
  );
  // Selecting the fused nodule shows its three sources, in the list and on the image.
  await mod.page.getByTestId('tool-select').click();
  const centre = await mod.reading.imageToPage(1000, 1100);
  await mod.page.mouse.click(centre.x, centre.y);
  await expect(nodule.getByTestId('fusion-source')).toHaveCount(3);
  await expect(mod.page.getByTestId('source-outline')).toHaveCount(3);
  for (const r of [ra, rb, rc])
    await expect(mod.page.locator(`[data-testid="source-outline"][data-reader-id="${r.id}"]`)).toHaveCount(1);
  // Global-label tallies from the blind readings.
  const tally = (p: Page, label: string) => p.locator(`[data-testid="global-tally"][data-label="${label}"]`);
  await expect(tally(b.page, 'Other diseases')).toHaveAttribute('data-count', '3');
  await expect(tally(b.page, 'COPD')).toHaveAttribute('data-count', '1');

  // The agreement dashboard: all three marked "Other diseases" (kappa undefined = unanimous).
  const agreement = mod.page.getByTestId('agreement-dashboard');
  await expect(agreement).toHaveAttribute('data-loaded', 'true');
  await expect(agreement.getByTestId('agreement-label')).toHaveCount(6);
  const other = agreement.locator('[data-testid="agreement-label"][data-label="Other diseases"]');
  await expect(other).toHaveAttribute('data-kappa', 'null');
  await expect(other).toContainText('unanimous / undefined');
  await expect(agreement.getByTestId('agreement-pair')).toHaveCount(3);
  await expect(agreement.getByTestId('agreement-f1')).not.toHaveAttribute('data-mean-f1', 'null');

  // The dispute queue lists C's lone box; the moderator puts it to a vote from there.
  const dispute = mod.page.locator('[data-testid="dispute-item"][data-kind="below-quorum"]');
  await expect(dispute).toHaveCount(1);
  await dispute.getByTestId('dispute-vote').click();
  const aortic = (p: Page) => byLabels(p, 'Aortic enlargement');
  await expect(aortic(mod.page).getByTestId('vote-tally')).toHaveAttribute('data-state', 'open');
  const ballots = new Map([
    [a, 'disagree'],
    [b, 'disagree'],
    [c, 'agree'],
  ] as const);
  await Promise.all(
    [...ballots].map(async ([r, choice]) => {
      const button = aortic(r.page).getByTestId(`vote-${choice}`);
      await button.click();
      await baseExpect(button).toHaveAttribute('aria-pressed', 'true');
    }),
  );
  await expect(aortic(mod.page).getByTestId('vote-tally')).toHaveAttribute('data-disagree', '2');
  // One agree of the two needed: the moderator is warned that closing rejects, then confirms.
  await aortic(mod.page).getByTestId('vote-close').click();
  await expect(aortic(mod.page).getByTestId('vote-close-warning')).toContainText('rejects');
  await aortic(mod.page).getByTestId('vote-close-confirm').click();
  for (const p of pages) await expect(aortic(p.page)).toHaveAttribute('data-decision', 'rejected');
  await expect(dispute).toHaveAttribute('data-decision', 'rejected');

  // The moderator accepts the nodule and the unanimous global label, then locks.
  await nodule.getByTestId('decide-accept').click();
  await expect(nodule).toHaveAttribute('data-decision', 'accepted');
  await mod.reading.toggleGlobal('Other diseases');
  const otherRow = mod.page.locator('[data-testid="global-consensus"][data-label="Other diseases"]');
  await otherRow.getByTestId('decide-accept').click();
  await expect(otherRow.getByTestId('decision-badge')).toHaveAttribute('data-outcome', 'accepted');
  await mod.page.getByTestId('lock-scan').click();
  await mod.page.getByTestId('lock-reject-undecided').check();
  await mod.page.getByTestId('lock-confirm').click();
  for (const p of pages) await p.reading.expectState('locked');
  await expect(mod.page.getByTestId('consensus-hash')).toBeVisible();
  const hashPrefix = (await mod.page.getByTestId('consensus-hash').textContent())?.replace('…', '') ?? '';

  // Exports, downloaded through the UI and parsed.
  const annotations = lines(await download(mod.page, 'export-annotations-test'));
  expect(annotations[0]).toBe(ANNOTATIONS_TEST_HEADER);
  expect(annotations).toHaveLength(2);
  const [imageId, className, ...coords] = (annotations[1] ?? '').split(',');
  expect(imageId).toBe(panel.scanId);
  expect(className).toBe('Nodule/Mass');
  const [x0, y0, x1, y1] = coords.map(Number);
  expect(Math.abs((x0 ?? 0) - 710)).toBeLessThan(30);
  expect(Math.abs((y1 ?? 0) - 1403)).toBeLessThan(30);
  expect((x1 ?? 0) > (x0 ?? 0) && (y1 ?? 0) > (y0 ?? 0)).toBe(true);

  const labels = lines(await download(mod.page, 'export-image-labels-test'));
  expect(labels[0]).toBe(IMAGE_LABELS_TEST_HEADER);
  const header = (labels[0] ?? '').split(',');
  const row = (labels[1] ?? '').split(',');
  const flag = (column: string) => row[header.indexOf(column)];
  expect(row[0]).toBe(panel.scanId);
  expect(flag('Nodule/Mass')).toBe('1');
  expect(flag('Aortic enlargement')).toBe('0');
  expect(flag('Other disease')).toBe('1');
  expect(flag('COPD')).toBe('0');

  const coco = JSON.parse((await download(mod.page, 'export-coco')).toString('utf8')) as {
    categories: { id: number; name: string }[];
    images: unknown[];
    annotations: { bbox: number[]; category_id: number }[];
  };
  expect(coco.categories).toHaveLength(22);
  expect(coco.images).toHaveLength(1);
  expect(coco.annotations).toHaveLength(1);
  expect(coco.categories.find((cat) => cat.id === coco.annotations[0]?.category_id)?.name).toBe(
    'Nodule/Mass',
  );

  const manifest = JSON.parse((await download(mod.page, 'export-manifest')).toString('utf8')) as {
    scans: { scanId: string; status: string; sha256?: string }[];
  };
  expect(manifest.scans).toHaveLength(1);
  expect(manifest.scans[0]?.scanId).toBe(panel.scanId);
  expect(manifest.scans[0]?.status).toBe('locked');
  expect(manifest.scans[0]?.sha256).toMatch(/^[0-9a-f]{64}$/);
  expect(manifest.scans[0]?.sha256?.startsWith(hashPrefix)).toBe(true);

  const sr = await download(mod.page, 'export-sr');
  expect(sr.subarray(128, 132).toString('latin1')).toBe('DICM');
  if (existsSync('/usr/bin/dsrdump')) {
    // DCMTK reads it back as a structured report; the path goes through a temp file.
    const tmp = test.info().outputPath('consensus.sr.dcm');
    mkdirSync(test.info().outputDir, { recursive: true });
    writeFileSync(tmp, sr);
    const dump = execFileSync('/usr/bin/dsrdump', [tmp], { encoding: 'utf8' });
    expect(dump).toContain('Nodule/Mass');
  }

  // Per-reader readings (train layout): A and B one box each, C two.
  const train = lines(await download(mod.page, 'export-annotations-train'));
  expect(train[0]).toBe(ANNOTATIONS_TRAIN_HEADER);
  expect(train).toHaveLength(5);
  for (const [r, n] of [
    [ra, 1],
    [rb, 1],
    [rc, 2],
  ] as const)
    expect(train.filter((l) => l.split(',')[1] === r.username)).toHaveLength(n);

  await Promise.all(pages.map((p) => p.context.close()));
});
