/** The shared pure pixel pipeline, re-exported for the server's DICOM modules. */
export * from '@cxr/shared';
