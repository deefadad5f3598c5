import { type ReaderReading, readerAnnotationsCsv, readerImageLabelsCsv } from '@cxr/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/main.js';
import { ADMIN, Api, type Member, startTestServer } from './helpers/test-server.js';

/**
 * Bad inputs tried here: an image that is not in the session, a rad_id with no reader, a box
 * outside the image, `No finding` next to a box, a malformed CSV, the test layout (no rad_id),
 * an import after the reveal, an import by a reader.
 */
describe('stage-1 readings from VinDr-CXR CSV', () => {
  let server: RunningServer;
  let api: Api;
  let moderator: Member;
  let readers: Member[];
  let sessionId: string;

  // rad_ids are the readers' usernames (case-insensitive), as VinDr's R1..R3.
  const readings: ReaderReading[] = [
    {
      imageId: 'img-a',
      radId: 'R1',
      findings: [
        {
          labels: ['Aortic enlargement', 'Cardiomegaly'],
          box: { x_min: 10.5, y_min: 20, x_max: 300, y_max: 400 },
        },
      ],
      globals: ['Other diseases'],
    },
    { imageId: 'img-a', radId: 'R2', findings: [], globals: ['No finding'] },
    {
      imageId: 'img-a',
      radId: 'R3',
      findings: [{ labels: ['Nodule/Mass'], box: { x_min: 1, y_min: 2, x_max: 3, y_max: 4 } }],
      globals: ['Lung tumor'],
    },
    { imageId: 'img-b', radId: 'R1', findings: [], globals: ['No finding'] },
    { imageId: 'img-b', radId: 'R2', findings: [], globals: ['No finding'] },
    {
      imageId: 'img-b',
      radId: 'R3',
      findings: [{ labels: ['Pleural effusion'], box: { x_min: 100, y_min: 600, x_max: 400, y_max: 799 } }],
      globals: ['Pneumonia', 'Tuberculosis'],
    },
  ];

  beforeAll(async () => {
    server = await startTestServer();
    api = new Api(server.url);
    const adminToken = (await api.login(ADMIN.username, ADMIN.password)).token;
    const admin = api.as(adminToken);
    const make = async (username: string, role: string): Promise<Member> => {
      await admin.call('POST', '/api/users', { username, password: `${username}-password`, role });
      const login = await api.login(username, `${username}-password`);
      return { id: login.id, username, token: login.token };
    };
    moderator = await make('imp-mod', 'moderator');
    readers = [await make('r1', 'reader'), await make('r2', 'reader'), await make('r3', 'reader')];
    for (const id of ['img-a', 'img-b'])
      await admin.call('POST', '/api/scans', { id, rows: 800, columns: 600 });
    const session = await admin.call('POST', '/api/sessions', {
      name: 'import',
      moderatorId: moderator.id,
      readerIds: readers.map((r) => r.id),
      scanIds: ['img-a', 'img-b'],
      mode: 'blind',
    });
    sessionId = String(session.body.id);
  });
  afterAll(async () => {
    await server.close();
  });

  const importCsv = (who: Member, list: ReaderReading[], extra: Record<string, unknown> = {}) =>
    api.as(who.token).call('POST', `/api/sessions/${sessionId}/readings/import`, {
      annotationsCsv: readerAnnotationsCsv(list),
      imageLabelsCsv: readerImageLabelsCsv(list),
      ...extra,
    });

  it('R-BLIND-7: bad readings are refused with every problem listed, and nothing is imported', async () => {
    const cases: Array<[string, ReaderReading[]]> = [
      ['image not in the session', [{ ...readings[1]!, imageId: 'img-zzz' }]],
      ['unmapped rad_id', [{ ...readings[1]!, radId: 'R9' }]],
      [
        'box outside the image',
        [
          {
            ...readings[2]!,
            findings: [{ labels: ['Edema'], box: { x_min: 500, y_min: 1, x_max: 601, y_max: 5 } }],
          },
        ],
      ],
      ['No finding next to a box', [{ ...readings[2]!, globals: ['No finding'] }]],
    ];
    for (const [what, list] of cases) {
      const res = await importCsv(moderator, list);
      expect(res.status, what).toBe(400);
      expect(res.body.error?.code, what).toBe('validation_failed');
    }
    const malformed = await api
      .as(moderator.token)
      .call('POST', `/api/sessions/${sessionId}/readings/import`, {
        annotationsCsv: 'image_id,class_name\nx,Edema\n',
        imageLabelsCsv: 'nonsense',
      });
    expect(malformed.status).toBe(400);
    expect((malformed.body.error as { details?: string[] }).details?.length).toBeGreaterThan(0);
    expect((await importCsv(readers[0]!, readings)).status).toBe(403);
    const progress = await api.as(moderator.token).call('GET', `/api/sessions/${sessionId}/progress`);
    const scans = progress.body.scans as Array<{ readers: Array<{ done: boolean }> }>;
    expect(scans.flatMap((s) => s.readers).every((r) => !r.done)).toBe(true);
  });

  it('R-BLIND-8: CSV import -> blind stage -> export reproduces the input', async () => {
    const res = await importCsv(moderator, readings);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ readings: 6, findings: 3 });
    const progress = await api.as(moderator.token).call('GET', `/api/sessions/${sessionId}/progress`);
    const scans = progress.body.scans as Array<{ readers: Array<{ done: boolean }> }>;
    expect(scans.flatMap((s) => s.readers).every((r) => r.done)).toBe(true);
    // Private until the reveal.
    expect(
      (await api.as(moderator.token).call('GET', `/api/sessions/${sessionId}/export/annotations_train.csv`))
        .status,
    ).toBe(409);
    expect((await api.as(moderator.token).call('POST', `/api/sessions/${sessionId}/reveal`)).status).toBe(
      200,
    );
    const annotations = await fetch(`${server.url}/api/sessions/${sessionId}/export/annotations_train.csv`, {
      headers: { authorization: `Bearer ${moderator.token}` },
    });
    const labels = await fetch(`${server.url}/api/sessions/${sessionId}/export/image_labels_train.csv`, {
      headers: { authorization: `Bearer ${moderator.token}` },
    });
    expect(annotations.headers.get('content-type')).toContain('text/csv');
    expect(await annotations.text()).toBe(readerAnnotationsCsv(readings));
    expect(await labels.text()).toBe(readerImageLabelsCsv(readings));
    expect((await importCsv(moderator, readings)).status).toBe(409);
  });
});
