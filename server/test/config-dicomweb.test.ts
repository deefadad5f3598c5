import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';

/** The DICOMweb settings (PACS, image store, shared UID key) parse once, with clear refusals. */
describe('DICOMweb settings', () => {
  it('defaults to no PACS and the local image store', () => {
    const result = parseConfig({});
    expect(result.ok && result.config.pacs).toBeUndefined();
    expect(result.ok && result.config.imageStore).toEqual({ kind: 'local' });
  });

  it('reads a PACS root without its trailing slash, and both kinds of credentials', () => {
    const basic = parseConfig({ PACS_URL: 'http://pacs:8042/dicom-web/', PACS_AUTH: 'basic:cxr:p:w' });
    expect(basic.ok && basic.config.pacs).toEqual({
      url: 'http://pacs:8042/dicom-web',
      auth: { kind: 'basic', user: 'cxr', password: 'p:w' },
    });
    const bearer = parseConfig({
      IMAGE_STORE: 'dicomweb',
      IMAGE_STORE_URL: 'https://archive/dicom-web',
      IMAGE_STORE_AUTH: 'bearer:t0k',
    });
    expect(bearer.ok && bearer.config.imageStore).toEqual({
      kind: 'dicomweb',
      peer: { url: 'https://archive/dicom-web', auth: { kind: 'bearer', token: 't0k' } },
    });
  });

  it('treats empty values (compose passes an unset VAR as empty) as unset', () => {
    const result = parseConfig({ PACS_URL: '', PACS_AUTH: '' });
    expect(result.ok && result.config.pacs).toBeUndefined();
  });

  it('refuses bad values by name: no URL for a dicomweb store, ftp roots, bad credentials, a short UID key', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ IMAGE_STORE: 'dicomweb' }, /IMAGE_STORE_URL/],
      [{ IMAGE_STORE: 's3' }, /IMAGE_STORE/],
      [{ PACS_URL: 'ftp://pacs/dicom-web' }, /PACS_URL/],
      [{ PACS_URL: 'not a url' }, /PACS_URL/],
      [{ PACS_AUTH: 'digest:x' }, /PACS_AUTH/],
      [{ PACS_AUTH: 'basic:onlyuser' }, /PACS_AUTH/],
      [{ DICOM_UID_KEY: 'abc' }, /DICOM_UID_KEY/],
      [{ IMAGE_CACHE_BYTES: '1000' }, /IMAGE_CACHE_BYTES/],
    ];
    for (const [env, problem] of cases) {
      const result = parseConfig(env);
      expect(result.ok, JSON.stringify(env)).toBe(false);
      if (!result.ok) expect(result.problems.join('; ')).toMatch(problem);
    }
    const key = parseConfig({ DICOM_UID_KEY: 'ab'.repeat(32) });
    expect(key.ok && key.config.dicomUidKey?.length).toBe(32);
  });
});
