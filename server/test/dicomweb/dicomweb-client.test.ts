import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DicomWebClient, DicomWebError, parseStowAnswer } from '../../src/dicomweb/dicomweb-client.js';
import { JSON_TAG, jsonString } from '../../src/dicomweb/dicom-json.js';
import { boundaryOf, multipartRelated, splitMultipart } from '../../src/dicomweb/multipart-related.js';
import { makeSyntheticChestDicom } from '../../src/dicom/synthetic.js';
import { OrthancProcess } from '../helpers/orthanc.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('multipart/related', () => {
  it('splits what it builds, even when a part contains the boundary text', () => {
    const a = new Uint8Array([1, 2, 3]);
    const body = multipartRelated([[a], [Buffer.from('x'), Buffer.from('y')]]);
    const boundary = boundaryOf(body.contentType)!;
    const joined = Buffer.concat(body.chunks);
    expect(splitMultipart(joined, boundary).map((p) => Buffer.from(p).toString('hex'))).toEqual([
      '010203',
      '7879',
    ]);
    // Content-Length wins over a boundary inside the part.
    const tricky = Buffer.from(`--B\r\nContent-Length: 9\r\n\r\n--B\r\nabcd\r\n--B--\r\n`, 'latin1');
    expect(splitMultipart(tricky, 'B').map((p) => Buffer.from(p).toString('latin1'))).toEqual([
      '--B\r\nabcd',
    ]);
  });

  it('refuses bodies that are not multipart with the boundary (bad inputs: no boundary, no header end, short part)', () => {
    expect(() => splitMultipart(Buffer.from('nothing here'), 'B')).toThrow(/boundary/);
    expect(() => splitMultipart(Buffer.from('--B\r\nContent-Type: x'), 'B')).toThrow(/header end/);
    expect(() => splitMultipart(Buffer.from('--B\r\nContent-Length: 99\r\n\r\nab'), 'B')).toThrow(/shorter/);
    expect(boundaryOf('multipart/related; type="application/dicom"; boundary="q r"')).toBe('q r');
    expect(boundaryOf('application/json')).toBeUndefined();
  });

  it('reads a STOW-RS answer with refused instances', () => {
    const answer = JSON.stringify({
      [JSON_TAG.FailedSOPSequence]: {
        vr: 'SQ',
        Value: [
          {
            [JSON_TAG.ReferencedSOPInstanceUID]: { vr: 'UI', Value: ['1.2'] },
            [JSON_TAG.FailureReason]: { vr: 'US', Value: [272] },
          },
        ],
      },
    });
    expect(parseStowAnswer(answer)).toEqual({
      stored: [],
      failed: [{ sopInstanceUid: '1.2', reason: 'failure reason 272' }],
    });
    expect(parseStowAnswer('not json')).toEqual({ stored: [], failed: [] });
  });
});

describe('DICOMweb client against a real Orthanc', () => {
  const orthanc = new OrthancProcess('client');
  let client: DicomWebClient;
  beforeAll(async () => {
    await orthanc.start();
    client = new DicomWebClient({ url: orthanc.dicomWebUrl, auth: undefined }, { timeoutMs: 5000 });
  }, 30_000);
  afterAll(() => orthanc.stop());

  it('stores by STOW-RS, finds by QIDO-RS and retrieves the same bytes by WADO-RS', async () => {
    const file = makeSyntheticChestDicom({
      rows: 600,
      columns: 500,
      patientId: 'CLIENT-1',
      patientName: 'DOE^JANE',
      studyInstanceUid: '1.2.826.0.1.3680043.10.1.1',
      seriesInstanceUid: '1.2.826.0.1.3680043.10.1.1.1',
      sopInstanceUid: '1.2.826.0.1.3680043.10.1.1.1.1',
    });
    const stored = await client.store([[file.subarray(0, 100), file.subarray(100)]]);
    expect(stored).toEqual({ stored: ['1.2.826.0.1.3680043.10.1.1.1.1'], failed: [] });

    const studies = await client.searchStudies({ PatientID: 'CLIENT-1' }, 10);
    expect(studies.map((s) => jsonString(s, JSON_TAG.StudyInstanceUID))).toEqual([
      '1.2.826.0.1.3680043.10.1.1',
    ]);
    expect(await client.searchStudies({ PatientID: 'NOBODY' }, 10)).toEqual([]);
    const instances = await client.searchInstances('1.2.826.0.1.3680043.10.1.1');
    expect(instances).toEqual([
      {
        studyInstanceUid: '1.2.826.0.1.3680043.10.1.1',
        seriesInstanceUid: '1.2.826.0.1.3680043.10.1.1.1',
        sopInstanceUid: '1.2.826.0.1.3680043.10.1.1.1.1',
      },
    ]);
    const back = await client.retrieveInstance(instances[0]!);
    expect(sha(back)).toBe(sha(file));
  });

  it('names each failure: not_found for a missing instance, refused for a bad UID and for junk, unavailable when down', async () => {
    const missing = { studyInstanceUid: '1.2.3', seriesInstanceUid: '1.2.3.4', sopInstanceUid: '1.2.3.4.5' };
    await expect(client.retrieveInstance(missing)).rejects.toMatchObject({ kind: 'not_found', status: 404 });
    await expect(client.searchInstances('1.2.3/../x')).rejects.toMatchObject({ kind: 'refused' });
    // Bytes that are not DICOM: Orthanc refuses them in the answer or with a status.
    const junk = await client.store([[Buffer.from('not a dicom file at all')]]).catch((e: unknown) => e);
    if (junk instanceof DicomWebError) expect(junk.kind).toBe('refused');
    else expect((junk as { stored: string[] }).stored).toEqual([]);

    const down = new DicomWebClient(
      { url: 'http://127.0.0.1:9/dicom-web', auth: undefined },
      { timeoutMs: 2000 },
    );
    await expect(down.searchStudies({}, 1)).rejects.toMatchObject({ kind: 'unavailable' });
  });
});
