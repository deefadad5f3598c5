import { z } from 'zod';
import { LOCAL_LABELS, type LocalLabel } from '../model/labels.js';
import type { ConsensusImage } from './readings.js';

/**
 * R-EXPORT-4: COCO detection JSON. Categories are the 22 local labels with ids 1..22 in
 * LOCAL_LABELS order (COCO reserves 0 for background in many trainers); global labels have no
 * box and are not categories. One image per locked scan (`file_name` `<image_id>.dicom`, width =
 * columns, height = rows, ids 1..n in export order) and one annotation per (box, label) with
 * `bbox` [x, y, w, h] and `area` w*h in pixels. `info.consensus` lists each image's record
 * version and SHA-256.
 */
export const COCO_CATEGORIES = LOCAL_LABELS.map((name, i) => ({ id: i + 1, name, supercategory: 'finding' }));

export function cocoCategoryId(label: LocalLabel): number {
  return LOCAL_LABELS.indexOf(label) + 1;
}

const CocoImageSchema = z.object({
  id: z.number().int().positive(),
  file_name: z.string(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** VinDr's `image_id`, so a trainer can join COCO back to the CSVs. */
  vindr_image_id: z.string(),
});

const CocoAnnotationSchema = z.object({
  id: z.number().int().positive(),
  image_id: z.number().int().positive(),
  category_id: z.number().int().min(1).max(LOCAL_LABELS.length),
  bbox: z.tuple([z.number(), z.number(), z.number().positive(), z.number().positive()]),
  area: z.number().positive(),
  iscrowd: z.literal(0),
});

export const CocoDatasetSchema = z.object({
  info: z.object({
    description: z.string(),
    version: z.string(),
    date_created: z.string(),
    session_id: z.string(),
    consensus: z.array(z.object({ image_id: z.string(), version: z.number().int(), sha256: z.string() })),
  }),
  licenses: z.array(z.unknown()),
  categories: z.array(z.object({ id: z.number().int(), name: z.string(), supercategory: z.string() })),
  images: z.array(CocoImageSchema),
  annotations: z.array(CocoAnnotationSchema),
});
export type CocoDataset = z.infer<typeof CocoDatasetSchema>;

export function cocoDataset(
  sessionId: string,
  images: readonly ConsensusImage[],
  /** When the newest record was locked (ms): the dataset's date, so an export is reproducible. */
  lockedAtMs: number,
): CocoDataset {
  const annotations: CocoDataset['annotations'] = [];
  const cocoImages = images.map((img, i) => {
    const id = i + 1;
    for (const f of img.findings) {
      const w = f.box.x_max - f.box.x_min;
      const h = f.box.y_max - f.box.y_min;
      for (const label of f.labels) {
        annotations.push({
          id: annotations.length + 1,
          image_id: id,
          category_id: cocoCategoryId(label),
          bbox: [f.box.x_min, f.box.y_min, w, h],
          area: w * h,
          iscrowd: 0,
        });
      }
    }
    return {
      id,
      file_name: `${img.imageId}.dicom`,
      width: img.columns,
      height: img.rows,
      vindr_image_id: img.imageId,
    };
  });
  return {
    info: {
      description: `cxr-consensus locked consensus of session ${sessionId}`,
      version: '1.0',
      date_created: new Date(lockedAtMs).toISOString(),
      session_id: sessionId,
      consensus: images.map((img) => ({ image_id: img.imageId, version: img.version, sha256: img.sha256 })),
    },
    licenses: [],
    categories: COCO_CATEGORIES,
    images: cocoImages,
    annotations,
  };
}
