import { EXPLICIT_LE, stampedGradient, writeDicom } from '../fixtures/dicom.js';
import { PACS_REST } from '../fixtures/env.js';
import { expect, test } from '../fixtures/panel.js';
import { ReadingPage } from '../pages/reading-page.js';

/**
 * "From PACS" (docs/UI.md, R-PACS-*): the moderator finds a patient's study in a real Orthanc
 * PACS, imports it into the session and reads it; readers are not offered the picker.
 */
test('the moderator imports a study from the PACS into the session and opens it', async ({
  browser,
  panel,
  request,
}) => {
  const tag = `${Date.now()}`;
  const patientId = `E2E-${tag}`;
  const study = `2.25.9${tag}1`;
  for (const i of [1, 2]) {
    const image = stampedGradient(600, 500, `pacs ${i}`);
    const bytes = writeDicom(image, EXPLICIT_LE, undefined, {
      patientName: `PACS^PATIENT${i}`,
      patientId,
      studyInstanceUid: study,
      sopInstanceUid: `${study}.1.${i}`,
      accessionNumber: `A${tag.slice(-8)}`,
      studyDate: '20240315',
    });
    const stored = await request.post(`${PACS_REST}/instances`, {
      headers: { 'content-type': 'application/dicom' },
      data: bytes,
    });
    expect(stored.ok(), await stored.text()).toBe(true);
  }

  const { context, page, reading } = await ReadingPage.signedIn(browser, panel.moderator);
  await reading.open(panel.sessionId, panel.scanId);
  await reading.waitReady();
  const before = await page.getByTestId('worklist-item').count();

  await page.getByTestId('pacs-open').click();
  const dialog = page.getByTestId('pacs-dialog');
  await expect(dialog).toBeVisible();
  await dialog.getByTestId('pacs-query-patient-id').fill(patientId);
  await dialog.getByTestId('pacs-query-date').fill('2024-03-15');
  await dialog.getByTestId('pacs-search').click();
  const row = dialog.locator(`[data-testid="pacs-study-row"][data-study-uid="${study}"]`);
  await expect(row).toBeVisible();
  await expect(row).toContainText('PACS, PATIENT1');
  await expect(row).toContainText('2024-03-15');
  await expect(dialog.getByTestId('pacs-import')).toBeDisabled();
  await row.getByTestId('pacs-study-check').check();
  await dialog.getByTestId('pacs-import').click();
  const progress = dialog.getByTestId('pacs-progress');
  await expect(progress).toHaveAttribute('data-state', 'done', { timeout: 30_000 });
  await expect(progress).toHaveAttribute('data-done', '2');
  await expect(progress).toHaveAttribute('data-failed', '0');
  await expect(progress).toContainText('2 of 2 images: 2 imported');
  await dialog.getByTestId('pacs-close').click();
  await expect(dialog).toBeHidden();

  // The two scans joined the worklist; the new one opens in the viewer, de-identified.
  await expect(page.getByTestId('worklist-item')).toHaveCount(before + 2);
  await page.getByTestId('worklist-item').nth(before).click();
  await reading.waitReady();
  await expect(page.getByTestId('viewer')).toBeVisible();

  // A reader of the same session is not offered the picker.
  const readerSide = await ReadingPage.signedIn(browser, panel.readerA);
  await readerSide.reading.open(panel.sessionId, panel.scanId);
  await readerSide.reading.waitReady();
  await expect(readerSide.page.getByTestId('worklist')).toBeVisible();
  await expect(readerSide.page.getByTestId('pacs-open')).toHaveCount(0);
  await readerSide.context.close();
  await context.close();
});

test('a search the PACS cannot answer as typed says what to fix, and stores nothing', async ({
  browser,
  panel,
  consoleGuard,
}) => {
  // The refusal this test provokes on purpose.
  consoleGuard.allow(/HTTP 400: GET .*\/api\/pacs\/studies/, /status of 400 \(Bad Request\)/);
  const { context, page, reading } = await ReadingPage.signedIn(browser, panel.moderator);
  await reading.open(panel.sessionId, panel.scanId);
  await reading.waitReady();
  await page.getByTestId('pacs-open').click();
  const dialog = page.getByTestId('pacs-dialog');
  await dialog.getByTestId('pacs-query-date').fill('March');
  await dialog.getByTestId('pacs-search').click();
  await expect(dialog.getByTestId('pacs-message')).toContainText('Check the search fields');
  await dialog.getByTestId('pacs-query-date').fill('');
  await dialog.getByTestId('pacs-query-patient-id').fill('NOBODY-AT-ALL');
  await dialog.getByTestId('pacs-search').click();
  await expect(dialog.getByTestId('pacs-no-results')).toBeVisible();
  await expect(dialog.getByTestId('pacs-message')).toHaveCount(0);
  await context.close();
});
