import {
  GLOBAL_LABELS,
  type GlobalLabel,
  KAGGLE_CLASS_IDS,
  LOCAL_LABELS,
  type LocalLabel,
} from '../model/labels.js';

/**
 * R-EXPORT-7: the private coding scheme of our DICOM SR findings. No standard terminology
 * covers VinDr-CXR's 28 labels one to one, so they are coded in a local scheme (PS3.16 8.2:
 * designators starting `99` are private). Code meaning = the label exactly as in the CSVs; code
 * value = the Kaggle class id where the label has one (`0`..`13`, `14` = No finding), else `L`
 * + its 1-based position among the 22 local labels or `G` + its position among the 6 global
 * labels (`L05` Clavicle fracture, `G1` COPD).
 */
export const SR_CODING_SCHEME = {
  designator: '99CXR',
  name: 'cxr-consensus VinDr-CXR labels',
  version: '1',
} as const;

export interface CodedConcept {
  readonly value: string;
  readonly scheme: string;
  readonly meaning: string;
}

export function labelCode(label: LocalLabel | GlobalLabel): CodedConcept {
  const kaggle = (KAGGLE_CLASS_IDS as Readonly<Record<string, number | undefined>>)[label];
  const local = (LOCAL_LABELS as readonly string[]).indexOf(label);
  const value =
    kaggle !== undefined
      ? String(kaggle)
      : local >= 0
        ? `L${String(local + 1).padStart(2, '0')}`
        : `G${(GLOBAL_LABELS as readonly string[]).indexOf(label) + 1}`;
  return { value, scheme: SR_CODING_SCHEME.designator, meaning: label };
}
