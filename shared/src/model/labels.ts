/**
 * The VinDr-CXR taxonomy, spelled exactly as in the released CSV headers and in their order.
 * Traps kept on purpose: `Lung Opacity` has a capital O; `Lung cavity`, `Lung cyst` and
 * `Lung tumor` do not.
 */
export const LOCAL_LABELS = [
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
] as const;

/** Image-level labels; `No finding` is last, as in `image_labels_*.csv`. */
export const GLOBAL_LABELS = [
  'COPD',
  'Lung tumor',
  'Pneumonia',
  'Tuberculosis',
  'Other diseases',
  'No finding',
] as const;

export type LocalLabel = (typeof LOCAL_LABELS)[number];
export type GlobalLabel = (typeof GLOBAL_LABELS)[number];

export const NO_FINDING: GlobalLabel = 'No finding';

/**
 * `image_labels_test.csv` spells this column `Other disease` while the train file says
 * `Other diseases`; exports of the consensus must use the test spelling.
 */
export const TEST_CSV_GLOBAL_SPELLING: Readonly<Record<GlobalLabel, string>> = {
  COPD: 'COPD',
  'Lung tumor': 'Lung tumor',
  Pneumonia: 'Pneumonia',
  Tuberculosis: 'Tuberculosis',
  'Other diseases': 'Other disease',
  'No finding': 'No finding',
};

/** Kaggle "VinBigData Chest X-ray Abnormalities Detection" class ids (14 = No finding). */
export const KAGGLE_CLASS_IDS: Readonly<Partial<Record<LocalLabel | 'No finding', number>>> = {
  'Aortic enlargement': 0,
  Atelectasis: 1,
  Calcification: 2,
  Cardiomegaly: 3,
  Consolidation: 4,
  ILD: 5,
  Infiltration: 6,
  'Lung Opacity': 7,
  'Nodule/Mass': 8,
  'Other lesion': 9,
  'Pleural effusion': 10,
  'Pleural thickening': 11,
  Pneumothorax: 12,
  'Pulmonary fibrosis': 13,
  'No finding': 14,
};

const localSet: ReadonlySet<string> = new Set(LOCAL_LABELS);
const globalSet: ReadonlySet<string> = new Set(GLOBAL_LABELS);

export function isLocalLabel(value: string): value is LocalLabel {
  return localSet.has(value);
}

export function isGlobalLabel(value: string): value is GlobalLabel {
  return globalSet.has(value);
}
