// dcmjs ships no type declarations; the surface the SR writer uses is declared here only.
declare module 'dcmjs' {
  /** A dataset keyed by DICOM keyword, values as dcmjs "naturalizes" them. */
  export type NaturalDataset = { [keyword: string]: unknown };
  /** dcmjs's own tag-keyed form (`{"00080016": {vr, Value}}`). */
  export type DenaturalizedDataset = { [tag: string]: unknown };

  interface DicomDictInstance {
    dict: DenaturalizedDataset;
    write(options?: { fragmentMultiframe?: boolean; allowInvalidVRLength?: boolean }): ArrayBuffer;
  }

  const dcmjs: {
    data: {
      DicomDict: new (meta: DenaturalizedDataset) => DicomDictInstance;
      DicomMetaDictionary: {
        denaturalizeDataset(dataset: NaturalDataset): DenaturalizedDataset;
      };
    };
  };
  export default dcmjs;
}
