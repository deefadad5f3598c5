import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSyntheticChestDicom } from '../src/dicom/synthetic.js';
import type { RunningServer } from '../src/main.js';
import { draw, get, lock } from './export-fixtures.js';
import { uploadDicom } from './helpers/dicom-ingest.js';
import { OrthancProcess } from './helpers/orthanc.js';
import { type Api, type Panel, createPanel, startTestServer } from './helpers/test-server.js';
import {
  dcmValue,
  dsrdump,
  pacsFile,
  pushOf,
  refusingLua,
  srInstances,
  toFile,
  waitForPush,
} from './pacs-push-fixtures.js';
import { LiveClient, cmd } from './realtime/live-client.js';

/**
 * The locked consensus goes back to a real PACS (Orthanc with its DICOMweb plugin) as DICOM SR
 * through the outbox: sent after the lock, waiting while the PACS is down, recorded as failed
 * when it refuses, re-pushed by admins. Small synthetic images (120 x 100): size is not the point.
 */
const pacs = new OrthancProcess('push');
let server: RunningServer;
let panel: Panel;
let sessionId: string;
/** Uploaded scans, one per test that locks. */
const scans: string[] = [];
/** A scan registered by size only (no DICOM file), never locked. */
let plainScan: string;
let admin: Api;

beforeAll(async () => {
  await pacs.start();
  server = await startTestServer({
    PACS_URL: pacs.dicomWebUrl,
    PACS_PUSH_RETRY_MS: '100',
    DICOMWEB_TIMEOUT_MS: '3000',
  });
  panel = await createPanel(server, { readers: 1, scans: [{ rows: 64, columns: 64 }] });
  plainScan = panel.scanIds[0]!;
  admin = panel.api.as(panel.admin.token);
  for (let i = 0; i < 6; i++) {
    const file = makeSyntheticChestDicom({
      rows: 120,
      columns: 100,
      seed: 40 + i,
      patientId: `PUSH-${i}`,
      patientName: `PUSH^PATIENT${i}`,
      sopInstanceUid: `2.25.7770${i}`,
    });
    const upload = await uploadDicom(server, panel.admin.token, file);
    expect(upload.status).toBe(201);
    scans.push(String(upload.body.id));
  }
  const session = await admin.call('POST', '/api/sessions', {
    name: 'push',
    moderatorId: panel.moderator.id,
    readerIds: [panel.readers[0]!.id],
    scanIds: [...scans, plainScan],
  });
  expect(session.status).toBe(201);
  sessionId = String(session.body.id);
}, 60_000);

afterAll(async () => {
  await server?.close();
  await pacs.stop();
});

const repush = (api: Api, scanId: string, body?: unknown) =>
  api.call('POST', `/api/sessions/${sessionId}/scans/${scanId}/consensus/pacs-push`, body);

describe('SR push to a real PACS', () => {
  it('R-PUSH-1, R-PUSH-4, R-PUSH-6: a lock sends the export’s SR, which dsrdump reads, referencing the de-identified image', async () => {
    const scanId = scans[0]!;
    await draw(server, sessionId, scanId, panel.readers[0]!, {
      findings: [{ id: 'a', labels: ['Nodule/Mass'], box: [10, 20, 40, 60] }],
      globals: ['Lung tumor'],
    });
    const locked = await lock(panel, sessionId, scanId);
    const push = await waitForPush(admin, sessionId, scanId, (p) => p?.state === 'sent');
    expect(push).toMatchObject({ state: 'sent', attempts: 1, lastError: null });
    expect(Date.parse(push.sentAt ?? '')).toBeGreaterThanOrEqual(
      (locked.record as { lockedAt: number }).lockedAt,
    );
    // Every panel member sees the status with the record.
    expect(await pushOf(panel.api.as(panel.readers[0]!.token), sessionId, scanId)).toEqual(push);

    const exported = await get(
      server,
      panel.admin.token,
      `/api/sessions/${sessionId}/scans/${scanId}/export/sr.dcm`,
    );
    expect(exported.status).toBe(200);
    const exportFile = toFile(exported.bytes, 'export.sr.dcm');
    const sop = dcmValue(exportFile, '0008,0018');
    const inPacs = (await srInstances(pacs)).filter((i) => i.sopInstanceUid === sop);
    expect(inPacs).toHaveLength(1);
    // For an uploaded file the PACS gets exactly the export's bytes.
    const stored = await pacsFile(pacs, sop);
    expect(Buffer.from(stored).equals(Buffer.from(exported.bytes))).toBe(true);

    const srFile = toFile(stored, 'pacs.sr.dcm');
    const verbose = spawnSync('dsrdump', ['-v', srFile], { encoding: 'utf8' });
    expect(verbose.status).toBe(0);
    expect(verbose.stderr).toBe('');
    const dump = dsrdump(srFile);
    expect(dump).toContain(
      '<CONTAINER:(126000,DCM,"Imaging Measurement Report")=SEPARATE>  # TID 1500 (DCMR)',
    );
    expect(dump).toContain('<contains CODE:(121071,DCM,"Finding")=(8,99CXR,"Nodule/Mass")>');
    expect(dump).toContain(`<contains TEXT:(CR-SHA256,99CXR,"Consensus record SHA-256")="${locked.sha256}">`);
    const image = await get(server, panel.admin.token, `/api/scans/${scanId}/dicom`);
    const imageFile = toFile(image.bytes, 'image.dcm');
    const imageSop = dcmValue(imageFile, '0008,0018');
    expect(imageSop).not.toBe('2.25.77700');
    expect(dump).toContain(`<selected from IMAGE:=(DX image,"${imageSop}")>`);
    expect(inPacs[0]!.studyInstanceUid).toBe(dcmValue(imageFile, '0020,000d'));
  });

  it('R-PUSH-1: a lock from the live panel is pushed too; unlocked and locked again, the new version is a new instance', async () => {
    const scanId = scans[1]!;
    await draw(server, sessionId, scanId, panel.readers[0]!, { findings: [], globals: ['No finding'] });
    const moderator = await LiveClient.open(server.url, { token: panel.moderator.token, sessionId });
    const observer = await LiveClient.open(server.url, { token: panel.admin.token, sessionId });
    try {
      // R-LOCK-7: the live panel's lock needs an accepted global label.
      const accepted = await moderator.send('scan:decide', {
        commandId: cmd(),
        scanId,
        target: { kind: 'global', label: 'No finding' },
        outcome: 'accepted',
      });
      expect(accepted.ok).toBe(true);
      const first = await moderator.send('scan:lock', { commandId: cmd(), scanId });
      expect(first.ok).toBe(true);
      await waitForPush(admin, sessionId, scanId, (p) => p?.state === 'sent');
      const before = await srInstances(pacs);

      const unlocked = await observer.send('scan:unlock', { commandId: cmd(), scanId, reason: 'read again' });
      expect(unlocked.ok).toBe(true);
      const second = await moderator.send('scan:lock', { commandId: cmd(), scanId });
      expect(second).toMatchObject({ ok: true, version: 2 });
      // The status follows the latest version: a new row, sent once.
      const push = await waitForPush(admin, sessionId, scanId, (p) => p?.state === 'sent');
      expect(push.attempts).toBe(1);
      const after = await srInstances(pacs);
      expect(after).toHaveLength(before.length + 1);
      const added = after.filter((a) => !before.some((b) => b.sopInstanceUid === a.sopInstanceUid));
      expect(added).toHaveLength(1);
      // Same image, same SR series; version 2 is its own instance.
      const previous = before.find((b) => b.seriesInstanceUid === added[0]!.seriesInstanceUid);
      expect(previous).toBeDefined();
    } finally {
      moderator.close();
      observer.close();
    }
  });

  it('R-PUSH-5: with the PACS down the push waits (pending, attempts, lastError), then goes once the PACS is back, one instance', async () => {
    const scanId = scans[2]!;
    await pacs.stop();
    await lock(panel, sessionId, scanId);
    const waiting = await waitForPush(
      admin,
      sessionId,
      scanId,
      (p) => p?.state === 'pending' && p.attempts >= 2,
    );
    expect(waiting.lastError).toMatch(/POST \/studies: .*(ECONNREFUSED|fetch failed)/);
    expect(waiting.sentAt).toBeNull();
    await pacs.start();
    const sent = await waitForPush(admin, sessionId, scanId, (p) => p?.state === 'sent');
    expect(sent.attempts).toBeGreaterThan(waiting.attempts);
    expect(sent.lastError).toBeNull();
    const exported = await get(
      server,
      panel.admin.token,
      `/api/sessions/${sessionId}/scans/${scanId}/export/sr.dcm`,
    );
    const sop = dcmValue(toFile(exported.bytes, 'down.sr.dcm'), '0008,0018');
    expect((await srInstances(pacs)).filter((i) => i.sopInstanceUid === sop)).toHaveLength(1);
  });

  it('R-PUSH-5, R-PUSH-7: a refusal is failed with its reason and not retried; admins alone re-push, and after the PACS is fixed it is sent, then never again', async () => {
    const [scanId, other] = [scans[3]!, scans[4]!];
    await pacs.stop();
    pacs.extraConfig = { LuaScripts: [refusingLua()] };
    await pacs.start();
    await lock(panel, sessionId, scanId);
    const failed = await waitForPush(admin, sessionId, scanId, (p) => p?.state === 'failed');
    expect(failed).toMatchObject({ attempts: 1, sentAt: null });
    expect(failed.lastError).toMatch(/POST \/studies answered 403/);
    await lock(panel, sessionId, other);
    await waitForPush(admin, sessionId, other, (p) => p?.state === 'failed');
    // The sender ran for the second scan; the first was not tried again by itself.
    expect(await pushOf(admin, sessionId, scanId)).toEqual(failed);

    // Who may re-push, and bad requests (nothing is queued by any of them).
    expect((await repush(panel.api, scanId)).status).toBe(401);
    expect((await repush(panel.api.as(panel.readers[0]!.token), scanId)).status).toBe(403);
    expect((await repush(panel.api.as(panel.moderator.token), scanId)).status).toBe(403);
    expect((await repush(panel.api.as(panel.outsider.token), scanId)).status).toBe(403);
    const notLocked = await repush(admin, plainScan);
    expect([notLocked.status, notLocked.body.error?.code]).toEqual([404, 'not_found']);
    const notInSession = await repush(admin, 'no-such-scan');
    expect([notInSession.status, notInSession.body.error?.code]).toEqual([404, 'not_found']);
    const noSession = await admin.call('POST', `/api/sessions/nope/scans/${scanId}/consensus/pacs-push`);
    expect([noSession.status, noSession.body.error?.code]).toEqual([404, 'not_found']);
    const badBody = await repush(admin, scanId, { now: true });
    expect([badBody.status, badBody.body.error?.code]).toEqual([400, 'validation_failed']);
    const badJson = await repush(admin, scanId, '{not json');
    expect([badJson.status, badJson.body.error?.code]).toEqual([400, 'bad_request']);
    expect(await pushOf(admin, sessionId, scanId)).toEqual(failed);

    // Still refused: the admin's re-push is tried at once and fails again, attempts counted on.
    const again = await repush(admin, scanId, {});
    expect(again.status).toBe(202);
    expect(again.body.pacsPush).toMatchObject({ state: 'pending', attempts: 1 });
    await waitForPush(admin, sessionId, scanId, (p) => p?.state === 'failed' && p.attempts === 2);

    // The PACS is fixed: the re-push sends it.
    await pacs.stop();
    pacs.extraConfig = {};
    await pacs.start();
    expect((await repush(admin, scanId)).status).toBe(202);
    const sent = await waitForPush(admin, sessionId, scanId, (p) => p?.state === 'sent');
    expect(sent).toMatchObject({ attempts: 3, lastError: null });
    const done = await repush(admin, scanId);
    expect([done.status, done.body.error?.code]).toEqual([409, 'already_sent']);
    // The other refused scan waits for an admin, PACS fixed or not.
    expect(await pushOf(admin, sessionId, other)).toMatchObject({ state: 'failed', attempts: 1 });
    // Each admin re-push is in the scan's audit chain.
    const audit = await admin.call('GET', `/api/sessions/${sessionId}/scans/${scanId}/audit`);
    const kinds = (audit.body.entries as Array<{ kind: string }>).map((e) => e.kind);
    expect(kinds.filter((k) => k === 'pacs-push')).toHaveLength(2);
  });

  it('R-PUSH-5: a PACS that answers STOW-RS without storing the SR (its storage full) is a failure, with the reason', async () => {
    const scanId = scans[5]!;
    // Orthanc full: one patient at most, held by another patient protected from recycling (the
    // de-identified SR's patient, with its empty Patient ID, is a new one).
    await pacs.stop();
    pacs.extraConfig = { MaximumPatientCount: 1 };
    await pacs.start();
    for (const id of (await pacs.rest('/patients')) as string[]) {
      expect((await fetch(`${pacs.restUrl}/patients/${id}`, { method: 'DELETE' })).ok).toBe(true);
    }
    const held = await pacs.upload(makeSyntheticChestDicom({ rows: 32, columns: 32, patientId: 'HELD-1' }));
    const patient = ((await pacs.rest(`/studies/${held.ParentStudy}`)) as { ParentPatient: string })
      .ParentPatient;
    const res = await fetch(`${pacs.restUrl}/patients/${patient}/protected`, { method: 'PUT', body: '1' });
    expect(res.ok).toBe(true);
    await lock(panel, sessionId, scanId);
    const failed = await waitForPush(admin, sessionId, scanId, (p) => p?.state === 'failed');
    expect(failed.lastError).toBe('the PACS answered STOW-RS without storing the SR or saying why');
    pacs.extraConfig = {};
  });
});
