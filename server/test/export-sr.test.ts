import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSyntheticChest } from '../src/dicom/synthetic.js';
import type { RunningServer } from '../src/main.js';
import { draw, get, lock } from './export-fixtures.js';
import { uploadDicom } from './helpers/dicom-ingest.js';
import { type Panel, createPanel, startTestServer, tempDir } from './helpers/test-server.js';

/**
 * The DICOM SR of a locked scan, read back by DCMTK (`dsrdump`, `dcmdump`), which shares no
 * code with dcmjs: template, coded findings, closed polylines in image pixels, VERIFIED by the
 * moderator, the record hash, and references to the de-identified image's own UIDs.
 */
let server: RunningServer;
let panel: Panel;
let sessionId: string;
let scanId: string;
let record: { sha256: string; version: number };
let dump: string;
let srFile: string;
let imageFile: string;
const dir = tempDir('cxr-sr-');

/** One attribute's value as dcmdump prints it, e.g. `[2.25.123]` -> `2.25.123`. */
function dcmValue(file: string, tag: string): string {
  const out = execFileSync('dcmdump', ['+P', tag, file], { encoding: 'utf8' });
  const match = /\[([^\]]*)\]/.exec(out);
  if (!match) throw new Error(`no ${tag} in ${file}: ${out}`);
  return match[1]!;
}

beforeAll(async () => {
  server = await startTestServer();
  panel = await createPanel(server, { readers: 1 });
  const chest = makeSyntheticChest({ rows: 120, columns: 100, seed: 5, sopInstanceUid: '2.25.5550001' });
  const upload = await uploadDicom(server, panel.admin.token, chest.bytes);
  expect(upload.status).toBe(201);
  scanId = String(upload.body.id);
  const created = await panel.api.as(panel.admin.token).call('POST', '/api/sessions', {
    name: 'sr',
    moderatorId: panel.moderator.id,
    readerIds: [panel.readers[0]!.id],
    scanIds: [scanId],
  });
  expect(created.status).toBe(201);
  sessionId = String(created.body.id);
  await draw(server, sessionId, scanId, panel.readers[0]!, {
    findings: [
      { id: 'a', labels: ['Nodule/Mass', 'Lung Opacity'], box: [10.5, 20, 40, 60.25] },
      { id: 'b', labels: ['Clavicle fracture'], box: [50, 5, 90, 15] },
    ],
    globals: ['COPD', 'Lung tumor'],
  });
  const locked = await lock(panel, sessionId, scanId);
  record = { sha256: locked.sha256, version: locked.version };
  const sr = await get(
    server,
    panel.readers[0]!.token,
    `/api/sessions/${sessionId}/scans/${scanId}/export/sr.dcm`,
  );
  expect(sr.status).toBe(200);
  expect(sr.headers.get('content-type')).toBe('application/dicom');
  expect(sr.headers.get('x-consensus-sha256')).toBe(record.sha256);
  srFile = path.join(dir, 'consensus.sr.dcm');
  fs.writeFileSync(srFile, sr.bytes);
  const image = await get(server, panel.admin.token, `/api/scans/${scanId}/dicom`);
  expect(image.status).toBe(200);
  imageFile = path.join(dir, 'image.dcm');
  fs.writeFileSync(imageFile, image.bytes);
  dump = execFileSync('dsrdump', ['+Pl', '+Pu', '+Pc', '+Pt', srFile], { encoding: 'utf8' });
});
afterAll(async () => {
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('DICOM SR read back by dsrdump', () => {
  it('R-EXPORT-7: a Comprehensive SR, TID 1500, COMPLETE and VERIFIED by the moderator', () => {
    // Verbose mode reports every warning and error DCMTK finds while reading the document.
    const verbose = spawnSync('dsrdump', ['-v', srFile], { encoding: 'utf8' });
    expect(verbose.status).toBe(0);
    expect(verbose.stderr).toBe('');
    expect(dump).toContain('Comprehensive SR Document');
    expect(dump).toMatch(/Completion Flag\s+: COMPLETE/);
    expect(dump).toMatch(/Verification Flag\s+: VERIFIED/);
    expect(dump).toMatch(
      new RegExp(`Verifying Observers : .*${panel.moderator.username} \\(${panel.moderator.id},99CXR,`),
    );
    expect(dump).toContain(
      '<CONTAINER:(126000,DCM,"Imaging Measurement Report")=SEPARATE>  # TID 1500 (DCMR)',
    );
    expect(dump).toContain(
      '<has obs context PNAME:(121008,DCM,"Person Observer Name")="' + panel.moderator.username + '">',
    );
  });

  it('R-EXPORT-7: one TID 1410 group per (box, label): coded finding and a closed 5-point polyline in pixels', () => {
    expect(dump.match(/# TID 1410 \(DCMR\)/g)).toHaveLength(3);
    // Kaggle class ids where they exist, L<position> otherwise.
    expect(dump).toContain('<contains CODE:(121071,DCM,"Finding")=(8,99CXR,"Nodule/Mass")>');
    expect(dump).toContain('<contains CODE:(121071,DCM,"Finding")=(7,99CXR,"Lung Opacity")>');
    expect(dump).toContain('<contains CODE:(121071,DCM,"Finding")=(L05,99CXR,"Clavicle fracture")>');
    const polylines = [...dump.matchAll(/SCOORD:\(111030,DCM,"Image Region"\)=\(POLYLINE,([^)]*)\)/g)].map(
      (m) => m[1],
    );
    expect(polylines).toEqual([
      '10.5/20,40/20,40/60.25,10.5/60.25,10.5/20',
      '10.5/20,40/20,40/60.25,10.5/60.25,10.5/20',
      '50/5,90/5,90/15,50/15,50/5',
    ]);
  });

  it('R-EXPORT-7: global labels are TID 1501 groups with coded findings', () => {
    expect(dump.match(/# TID 1501 \(DCMR\)/g)).toHaveLength(2);
    expect(dump).toContain('<contains CODE:(121071,DCM,"Finding")=(G1,99CXR,"COPD")>');
    expect(dump).toContain('<contains CODE:(121071,DCM,"Finding")=(G2,99CXR,"Lung tumor")>');
  });

  it('R-EXPORT-7: the record’s SHA-256 is inside the SR', () => {
    expect(dump).toContain(`<contains TEXT:(CR-SHA256,99CXR,"Consensus record SHA-256")="${record.sha256}">`);
  });

  it('R-EXPORT-7: references the de-identified image by its own UIDs and files into its study', () => {
    const sop = dcmValue(imageFile, '0008,0018');
    expect(sop).not.toBe('2.25.5550001'); // the original UID never survives de-identification
    expect(dump).toContain(`<selected from IMAGE:=(DX image,"${sop}")>`);
    expect(dump).toContain(`<contains IMAGE:=(DX image,"${sop}")>`);
    expect(dcmValue(srFile, '0020,000d')).toBe(dcmValue(imageFile, '0020,000d'));
    expect(dcmValue(srFile, '0008,0060')).toBe('SR');
    const evidence = execFileSync('dcmdump', ['+P', '0040,a375', '+P', '0008,1155', srFile], {
      encoding: 'utf8',
    });
    expect(evidence).toContain(sop);
    expect(dcmValue(srFile, '0020,000e')).not.toBe(dcmValue(imageFile, '0020,000e'));
  });

  it('R-EXPORT-7: exporting again gives the same instance (UIDs derived from the record)', async () => {
    const again = await get(
      server,
      panel.moderator.token,
      `/api/sessions/${sessionId}/scans/${scanId}/export/sr.dcm`,
    );
    expect(Buffer.from(again.bytes).equals(fs.readFileSync(srFile))).toBe(true);
  });
});
