import { type Locator, type Page, expect as baseExpect } from '@playwright/test';
import { YjsLink } from '../fixtures/network.js';
import { expect, test } from '../fixtures/panel.js';
import { ReadingPage } from '../pages/reading-page.js';

/**
 * A full panel (a moderator and five readers, one browser context each) reaches consensus on a
 * scan through the live panel: presence and follow-the-moderator, a drawn finding put to a
 * vote, live tallies (also for a reader who lost the panel and resynced), a close decided by
 * quorum, a global label decided by override with a reason, a refused lock then a lock that
 * rejects the undecided, everyone read-only afterwards, and the scan's audit chain verified by
 * the server.
 * Every wait is on a data attribute the UI publishes.
 */

test.use({ panelReaders: 5, panelScans: 2 });
// About 25 s on a quiet host; 1.3-1.5 min on a slow one (2026-11-27, this build and the one before).
test.setTimeout(180_000);

const finding = (page: Page): Locator => page.getByTestId('finding-item').first();

test('five readers and a moderator reach consensus, lock, and the audit chain verifies', async ({
  browser,
  panel,
}) => {
  const [scan1, scan2] = panel.scanIds;
  if (!scan1 || !scan2) throw new Error('the panel needs two scans');
  const members = [panel.moderator, ...panel.readers];
  const pages = await Promise.all(members.map((m) => ReadingPage.signedIn(browser, m)));
  const [mod, a, b, c, d, e] = pages;
  if (!mod || !a || !b || !c || !d || !e) throw new Error('six members expected');
  // C's live-panel socket goes through a switch, to lose it in the middle of a vote.
  const cLink = await YjsLink.install(c.page, /\/socket\.io\//);

  // Everyone opens the first scan; the live panel connects and sees all six.
  await Promise.all(pages.map((p) => p.reading.open(panel.sessionId, scan1)));
  for (const p of pages)
    await expect(p.page.getByTestId('panel-status')).toHaveAttribute('data-panel-state', 'connected');
  const modBar = mod.page.getByTestId('presence-bar');
  await expect(modBar).toHaveAttribute('data-online-count', '5');
  for (const r of panel.readers) {
    const chip = modBar.locator(`[data-user-id="${r.id}"]`);
    await expect(chip).toHaveAttribute('data-role', 'reader');
    await expect(chip).toHaveAttribute('data-scan-id', scan1);
    await expect(chip).toHaveAttribute('data-following', 'true');
  }

  // Follow the moderator: "go" moves the followers; E stops following and stays behind, then
  // comes back to following and lands where the moderator is.
  const eChip = modBar.locator(`[data-user-id="${panel.readers[4]?.id}"]`);
  await e.page.getByTestId('follow-toggle').click();
  await expect(e.page.getByTestId('follow-toggle')).toHaveAttribute('aria-pressed', 'false');
  await expect(eChip).toHaveAttribute('data-following', 'false');
  const current = (p: Page, scanId: string) =>
    baseExpect(p.locator(`[data-testid="worklist-item"][data-scan-id="${scanId}"]`)).toHaveAttribute(
      'aria-current',
      'true',
    );
  const goto = (scanId: string) =>
    mod.page
      .locator(`[data-testid="moderator-scan"][data-scan-id="${scanId}"]`)
      .getByTestId('moderator-goto')
      .click();
  await goto(scan2);
  await Promise.all([mod, a, b, c, d].map((r) => current(r.page, scan2)));
  await current(e.page, scan1);
  await expect(
    e.page.locator(`[data-testid="presence-member"][data-user-id="${panel.moderator.id}"]`),
  ).toHaveAttribute('data-scan-id', scan2);
  await e.page.getByTestId('follow-toggle').click();
  await current(e.page, scan2);
  await expect(eChip).toHaveAttribute('data-following', 'true');
  await goto(scan1);
  await Promise.all(pages.map((r) => current(r.page, scan1)));
  await Promise.all(pages.map((p) => p.reading.waitReady('synced')));

  // A reads: a box and a global label; A marks the scan done, which the moderator sees.
  await a.reading.drawBox({ x_min: 700, y_min: 800, x_max: 1300, y_max: 1400 }, ['Nodule/Mass']);
  await a.reading.toggleGlobal('Other diseases');
  await a.page.getByTestId('mark-done').click();
  await expect(a.page.getByTestId('mark-done')).toHaveAttribute('aria-pressed', 'true');
  await expect(modBar.locator(`[data-user-id="${panel.readerA.id}"]`)).toHaveAttribute('data-done', 'true');
  for (const p of pages) await p.reading.expectFindingsCount(1);

  // The moderator puts the finding to a vote. C loses the live panel meanwhile; the others
  // vote; C comes back, resyncs (vote:list) and sees the ballots it missed, then votes too.
  await finding(mod.page).getByTestId('vote-open').click();
  await expect(finding(mod.page).getByTestId('vote-tally')).toHaveAttribute('data-state', 'open');
  await expect(finding(c.page).getByTestId('vote-tally')).toHaveAttribute('data-state', 'open');
  await cLink.goOffline();
  await expect(c.page.getByTestId('panel-status')).toHaveAttribute('data-panel-state', 'reconnecting');
  const choices = new Map([
    [a, 'agree'],
    [b, 'agree'],
    [d, 'disagree'],
    [e, 'abstain'],
  ] as const);
  await Promise.all(
    [...choices].map(async ([r, choice]) => {
      const button = finding(r.page).getByTestId(`vote-${choice}`);
      await button.click();
      await expect(button).toHaveAttribute('aria-pressed', 'true');
    }),
  );
  await expect(finding(mod.page).getByTestId('vote-tally')).toHaveAttribute('data-agree', '2');
  cLink.goOnline();
  // The attempt refused while offline ends at the client's 4 s handshake timeout, then backoff.
  await expect(c.page.getByTestId('panel-status')).toHaveAttribute('data-panel-state', 'connected', {
    timeout: 15_000,
  });
  const cTally = finding(c.page).getByTestId('vote-tally');
  await expect(cTally).toHaveAttribute('data-agree', '2');
  await expect(cTally).toHaveAttribute('data-disagree', '1');
  await finding(c.page).getByTestId('vote-agree').click();
  await expect(finding(c.page).getByTestId('vote-agree')).toHaveAttribute('aria-pressed', 'true');
  // D changes their mind while the vote is open.
  await finding(d.page).getByTestId('vote-agree').click();
  for (const p of pages) {
    const tally = finding(p.page).getByTestId('vote-tally');
    await expect(tally).toHaveAttribute('data-agree', '4');
    await expect(tally).toHaveAttribute('data-disagree', '0');
    await expect(tally).toHaveAttribute('data-abstain', '1');
  }

  // Closing lets the quorum decide: accepted, shown on every client from the document.
  await finding(mod.page).getByTestId('vote-close').click();
  for (const p of pages) {
    await expect(finding(p.page)).toHaveAttribute('data-decision', 'accepted');
    await expect(finding(p.page).getByTestId('vote-tally')).toHaveAttribute('data-state', 'closed');
  }

  // A global label put to a vote and decided against the quorum, with a written reason.
  const globalRow = (p: Page, label: string) =>
    p.locator(`[data-testid="global-consensus"][data-label="${label}"]`);
  await globalRow(mod.page, 'Other diseases').getByTestId('vote-open').click();
  await expect(globalRow(b.page, 'Other diseases').getByTestId('vote-disagree')).toBeVisible();
  await globalRow(b.page, 'Other diseases').getByTestId('vote-disagree').click();
  await globalRow(mod.page, 'Other diseases').getByTestId('vote-override').click();
  await mod.page.getByTestId('override-outcome').selectOption('accepted');
  await mod.page.getByTestId('override-reason').fill('Old granulomas on the prior film');
  await mod.page.getByTestId('override-submit').click();
  for (const p of [mod, b]) {
    await expect(globalRow(p.page, 'Other diseases').getByTestId('decision-badge')).toHaveAttribute(
      'data-outcome',
      'accepted',
    );
  }

  // E proposes another label nobody decides: a plain lock is refused, and the refusal shown.
  await e.reading.toggleGlobal('COPD');
  await expect(mod.page.getByTestId('undecided-count')).toHaveAttribute('data-count', '1');
  await mod.page.getByTestId('lock-scan').click();
  await mod.page.getByTestId('lock-confirm').click();
  await expect(mod.page.getByTestId('consensus-panel').getByTestId('command-error')).toHaveAttribute(
    'data-code',
    'undecided',
  );
  await mod.page.getByTestId('lock-reject-undecided').check();
  await mod.page.getByTestId('lock-confirm').click();

  // Locked for everyone: read-only, and a reader's edit attempt is refused in the UI.
  for (const p of pages) {
    await p.reading.expectState('locked');
    await expect(p.reading.viewer).toHaveAttribute('data-read-only', 'true');
  }
  await expect(globalRow(mod.page, 'COPD').getByTestId('decision-badge')).toHaveAttribute(
    'data-outcome',
    'rejected',
  );
  // The lock record says who locked it and what it holds (one box, Other diseases, COPD rejected).
  const record = mod.page.getByTestId('consensus-locked');
  await expect(record.getByTestId('consensus-locked-by')).toContainText(`by ${panel.moderator.username}`);
  await expect(record.getByTestId('consensus-boxes')).toHaveAttribute('data-accepted', '1');
  await expect(record.getByTestId('consensus-boxes')).toContainText('Nodule/Mass');
  await expect(b.page.getByTestId('consensus-globals')).toHaveAttribute('data-labels', /Other diseases/);
  await expect(b.page.getByTestId('consensus-globals')).toContainText('1 rejected');
  await expect(b.reading.globalLabel('Pneumonia')).toBeDisabled();
  await expect(b.page.getByTestId('vote-open')).toHaveCount(0);
  await expect(b.page.getByTestId('tool-draw')).toBeDisabled();
  await b.reading.drag(await b.reading.imageToPage(200, 200), await b.reading.imageToPage(500, 500));
  await expect(b.page.getByTestId('label-picker')).toHaveCount(0);
  for (const p of pages) await p.reading.expectFindingsCount(1);
  await expect(mod.page.locator(`[data-testid="moderator-scan"][data-scan-id="${scan1}"]`)).toHaveAttribute(
    'data-locked',
    'true',
  );

  // The server's audit chain for the scan (edits, votes, decisions, lock) verifies; the lock
  // compacted the log first, so the readers' edits are in it and nothing is left pending.
  const audit = await panel.audit(scan1);
  expect(audit.verified).toBe(true);
  const kinds = (audit.entries as Array<{ kind: string }>).map((e) => e.kind);
  expect(kinds).toContain('edit');
  expect(kinds.at(-1)).toBe('lock');
  expect(audit.pendingEdits).toEqual([]);

  await Promise.all(pages.map((p) => p.context.close()));
});

test('an admin unlocks a locked scan with a reason and the panel can edit again', async ({
  browser,
  admin,
  panel,
}) => {
  const reader = await ReadingPage.signedIn(browser, panel.readerA);
  const root = await ReadingPage.signedIn(browser, admin);
  await reader.reading.open(panel.sessionId, panel.scanId);
  await panel.lock();
  await reader.reading.expectState('locked');
  await root.reading.open(panel.sessionId, panel.scanId);
  await root.reading.expectState('locked');
  await expect(root.page.getByTestId('panel-status')).toHaveAttribute('data-panel-state', 'connected');
  await root.page.getByTestId('unlock-reason').fill('Prior film arrived late');
  await root.page.getByTestId('unlock-scan').click();
  await reader.reading.expectState('synced');
  await expect(reader.reading.viewer).toHaveAttribute('data-read-only', 'false');
  await reader.reading.toggleGlobal('COPD');
  await expect(root.reading.globalLabel('COPD')).toHaveAttribute('aria-pressed', 'true');
  await expect(
    reader.page.locator(`[data-testid="worklist-item"][data-scan-id="${panel.scanId}"]`),
  ).toHaveAttribute('data-locked', 'false');
  await Promise.all([reader.context.close(), root.context.close()]);
});
