import { describe, expect, it } from 'vitest';
import type { ConsensusRecord } from '../model/consensus-record.js';
import { LOCAL_LABELS } from '../model/labels.js';
import { COCO_CATEGORIES, CocoDatasetSchema, cocoDataset } from './coco.js';
import { consensusContent, consensusImage } from './readings.js';

const SHA = 'a'.repeat(64);
const record: ConsensusRecord = {
  sessionId: 's1',
  scanId: 'img1',
  version: 2,
  image: { rows: 2000, columns: 1800 },
  lockedBy: 'mod',
  lockedAt: 1_750_000_000_000,
  findings: [
    {
      id: 'f1',
      labels: ['Lung Opacity', 'Infiltration'],
      box: { x_min: 10, y_min: 20, x_max: 110.5, y_max: 220 },
      createdBy: 'r1',
      updatedBy: 'r1',
      updatedAt: 1,
    },
    {
      id: 'f2',
      labels: ['Nodule/Mass'],
      box: { x_min: 1, y_min: 1, x_max: 5, y_max: 5 },
      createdBy: 'r2',
      updatedBy: 'r2',
      updatedAt: 1,
    },
    {
      id: 'f3',
      labels: ['ILD'],
      box: { x_min: 300, y_min: 300, x_max: 400, y_max: 400 },
      createdBy: 'r2',
      updatedBy: 'r2',
      updatedAt: 1,
    },
  ],
  globals: [
    { label: 'COPD', proposedBy: 'r1', updatedAt: 1 },
    { label: 'Pneumonia', proposedBy: 'r2', updatedAt: 1 },
  ],
  decisions: [
    { target: { kind: 'finding', id: 'f1' }, outcome: 'accepted', decidedBy: 'mod', decidedAt: 5 },
    { target: { kind: 'finding', id: 'f2' }, outcome: 'accepted', decidedBy: 'mod', decidedAt: 5 },
    { target: { kind: 'finding', id: 'f2' }, outcome: 'rejected', decidedBy: 'mod', decidedAt: 9 },
    { target: { kind: 'global', label: 'Pneumonia' }, outcome: 'rejected', decidedBy: 'mod', decidedAt: 5 },
  ],
};

describe('consensus content', () => {
  it('R-EXPORT-1: accepted and undecided are in, rejected is out, the latest decision counts', () => {
    expect(consensusContent(record)).toEqual({
      imageId: 'img1',
      findings: [
        { labels: ['Infiltration', 'Lung Opacity'], box: record.findings[0]!.box },
        { labels: ['ILD'], box: record.findings[2]!.box },
      ],
      globals: ['COPD'],
    });
  });
});

describe('COCO export', () => {
  const coco = cocoDataset('s1', [consensusImage(record, SHA)], record.lockedAt);

  it('R-EXPORT-4: categories are the 22 local labels, ids 1..22 in LOCAL_LABELS order', () => {
    expect(COCO_CATEGORIES.map((c) => c.id)).toEqual(LOCAL_LABELS.map((_, i) => i + 1));
    expect(coco.categories.map((c) => c.name)).toEqual([...LOCAL_LABELS]);
  });

  it('R-EXPORT-4: one annotation per (box, label), bbox [x, y, w, h], area, iscrowd 0; hashes in info', () => {
    expect(CocoDatasetSchema.parse(JSON.parse(JSON.stringify(coco)))).toEqual(coco);
    expect(coco.images).toEqual([
      { id: 1, file_name: 'img1.dicom', width: 1800, height: 2000, vindr_image_id: 'img1' },
    ]);
    const cat = (label: string) => LOCAL_LABELS.indexOf(label as never) + 1;
    expect(coco.annotations).toEqual([
      {
        id: 1,
        image_id: 1,
        category_id: cat('Infiltration'),
        bbox: [10, 20, 100.5, 200],
        area: 20100,
        iscrowd: 0,
      },
      {
        id: 2,
        image_id: 1,
        category_id: cat('Lung Opacity'),
        bbox: [10, 20, 100.5, 200],
        area: 20100,
        iscrowd: 0,
      },
      { id: 3, image_id: 1, category_id: cat('ILD'), bbox: [300, 300, 100, 100], area: 10000, iscrowd: 0 },
    ]);
    expect(coco.info.consensus).toEqual([{ image_id: 'img1', version: 2, sha256: SHA }]);
    expect(coco.info.date_created).toBe(new Date(record.lockedAt).toISOString());
  });
});
