import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stores } from '../src/db/stores.js';
import { STORAGE_BACKENDS } from './helpers/storage-backends.js';

/**
 * The PACS import jobs' store on every back end (R-PACS-5): one node holds a job at a time,
 * a lease that ends lets another take it, a job is listed once, and the origins store keeps
 * the first identity (R-PACS-6).
 */
for (const backend of STORAGE_BACKENDS) {
  describe(`PACS import store on ${backend.name}`, () => {
    let stores: Stores;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      ({ stores, drop } = await backend.open());
    });
    afterAll(async () => {
      await stores.db.close();
      await drop();
    });

    it('R-PACS-5: of two nodes claiming at once one gets the job; its lease ending lets the other resume it', async () => {
      const store = stores.pacsImports;
      const t0 = 1_000_000;
      await store.create({ id: 'job-1', createdBy: null, sessionId: null, studyUids: ['1.2.3'] }, t0);
      const [a, b] = await Promise.all([store.claim('node-a', t0, 1000), store.claim('node-b', t0, 1000)]);
      expect([a?.id, b?.id].filter(Boolean)).toEqual(['job-1']);
      const holder = a ? 'node-a' : 'node-b';
      const other = a ? 'node-b' : 'node-a';
      expect((await store.get('job-1'))?.state).toBe('running');
      expect(await store.claim(other, t0 + 500, 1000)).toBeUndefined();
      expect(await store.renew('job-1', holder, t0 + 900, 1000)).toBe(true);
      // The holder died: past its lease the other node takes the job, and the first cannot renew.
      const taken = await store.claim(other, t0 + 2000, 1000);
      expect(taken?.id).toBe('job-1');
      expect(await store.renew('job-1', holder, t0 + 2001, 1000)).toBe(false);

      // Listed once, by the holder only.
      expect(
        await store.addItems('job-1', holder, [
          { studyUid: '1.2.3', seriesUid: '1.2.3.1', sopUid: '1.2.3.1.1' },
        ]),
      ).toBe(false);
      const items = [
        { studyUid: '1.2.3', seriesUid: '1.2.3.1', sopUid: '1.2.3.1.1' },
        { studyUid: '1.2.3', seriesUid: '1.2.3.1', sopUid: '1.2.3.1.2' },
      ];
      expect(await store.addItems('job-1', other, items)).toBe(true);
      expect(await store.addItems('job-1', other, items)).toBe(false);
      expect(await store.items('job-1')).toHaveLength(2);

      await store.settleItem('job-1', 0, { state: 'done', scanId: 'scan-1' });
      await store.settleItem('job-1', 1, {
        state: 'failed',
        errorCode: 'dicom_no_pixels',
        errorMessage: 'x',
      });
      // A settled item stays as it was settled.
      await store.settleItem('job-1', 0, { state: 'failed', errorCode: 'late', errorMessage: 'late' });
      expect((await store.items('job-1')).map((i) => [i.state, i.scanId, i.errorCode])).toEqual([
        ['done', 'scan-1', null],
        ['failed', null, 'dicom_no_pixels'],
      ]);

      // Postponed: attempts counted, not due before its time, then claimable again.
      await store.postpone('job-1', other, 'pacs_unavailable: down', t0 + 5000);
      expect(await store.get('job-1')).toMatchObject({
        attempts: 1,
        lastError: 'pacs_unavailable: down',
        state: 'running',
      });
      expect(await store.nextDueAt()).toBe(t0 + 5000);
      expect(await store.claim(holder, t0 + 4999, 1000)).toBeUndefined();
      expect((await store.claim(holder, t0 + 5000, 1000))?.id).toBe('job-1');
      await store.finish('job-1', holder, 'done', new Date(t0 + 6000));
      expect(await store.get('job-1')).toMatchObject({
        state: 'done',
        finishedAt: new Date(t0 + 6000).toISOString(),
      });
      expect(await store.claim(other, t0 + 99_999, 1000)).toBeUndefined();
      expect(await store.nextDueAt()).toBeUndefined();
    });

    it('R-PACS-6: the origins store keeps the first original identity of a scan', async () => {
      const origin = {
        studyInstanceUid: '1.2.3',
        seriesInstanceUid: '1.2.3.1',
        sopInstanceUid: '1.2.3.1.1',
        sopClassUid: '1.2.840.10008.5.1.4.1.1.1.1',
        patient: { PatientName: 'Müller^Jörg', PatientID: 'P-1' },
        study: { AccessionNumber: 'A-1' },
      };
      await stores.pacsOrigins.put('scan-o', origin);
      await stores.pacsOrigins.put('scan-o', { ...origin, sopInstanceUid: '9.9' });
      expect(await stores.pacsOrigins.get('scan-o')).toEqual(origin);
      expect(await stores.pacsOrigins.get('no-such-scan')).toBeUndefined();
    });
  });
}
