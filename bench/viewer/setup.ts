import {
  EXPLICIT_LE,
  JPEG_LS_LOSSLESS,
  type SyntheticImage,
  jpegLsFrame,
  syntheticChest,
  writeDicom,
} from '../../e2e/fixtures/dicom.js';
import { ADMIN } from '../load/setup.js';

export interface BenchScan {
  readonly name: string;
  readonly id: string;
  readonly bytes: number;
}

export interface Setup {
  readonly base: string;
  /** The reader's sign-in, as the app keeps it in sessionStorage (`cxr.auth`). */
  readonly auth: { token: string; user: unknown };
  readonly adminToken: string;
  /** Two-film session of the direct-open runs and the W/L drag: native first, then JPEG-LS. */
  readonly openSession: { id: string; scans: BenchScan[] };
  /**
   * The worklist walk: `walk` are clicked in order; `landing` is last in the worklist, where
   * the page is loaded (so every counted click is a first visit, and nothing lies ahead of
   * the landing scan for prefetch to fetch before the walk starts).
   */
  readonly walkSession: { id: string; walk: BenchScan[]; landing: BenchScan };
}

async function api(base: string, method: string, url: string, token?: string, body?: unknown) {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  let payload: BodyInit | undefined;
  if (body instanceof Buffer) {
    headers['content-type'] = 'application/dicom';
    payload = new Uint8Array(body);
  } else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const response = await fetch(`${base}${url}`, { method, headers, body: payload });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${url} -> ${response.status} ${text}`);
  const parsed: unknown = text ? JSON.parse(text) : {};
  if (typeof parsed !== 'object' || parsed === null) throw new Error(`${url}: not an object`);
  return parsed as Record<string, unknown>;
}

/**
 * The same chest with a few pixels of the last row changed: the server stores files by
 * content, so identical bytes would be one scan; these are distinct films of equal cost.
 */
function variant(image: SyntheticImage, index: number): SyntheticImage {
  const pixels = new Uint16Array(image.pixels);
  const lastRow = (image.rows - 1) * image.columns;
  for (let i = 0; i < 16; i++) pixels[lastRow + i] = 0xf000 | ((index * 131 + i * 7) & 0xfff);
  return { ...image, pixels };
}

export async function setUp(base: string, walkScans: number): Promise<Setup> {
  const admin = await api(base, 'POST', '/api/auth/login', undefined, ADMIN);
  const adminToken = String(admin.token);
  const user = (name: string, role: string) =>
    api(base, 'POST', '/api/users', adminToken, { username: name, password: `${name}-password`, role });
  const moderator = await user('bench-mod', 'moderator');
  await user('bench-reader', 'reader');
  const reader = await api(base, 'POST', '/api/auth/login', undefined, {
    username: 'bench-reader',
    password: 'bench-reader-password',
  });
  const chest = syntheticChest();
  const upload = async (name: string, bytes: Buffer): Promise<BenchScan> => {
    const scan = await api(base, 'POST', `/api/scans?fileName=bench-${name}.dcm`, adminToken, bytes);
    return { name, id: String(scan.id), bytes: bytes.length };
  };
  const native = await upload('native', writeDicom(chest, EXPLICIT_LE));
  const jpegLs = await upload('JPEG-LS', writeDicom(chest, JPEG_LS_LOSSLESS, await jpegLsFrame(chest)));
  const walk: BenchScan[] = [];
  for (let i = 0; i < walkScans; i++)
    walk.push(await upload(`walk-${i + 1}`, writeDicom(variant(chest, i + 1), EXPLICIT_LE)));
  const landing = await upload('landing', writeDicom(variant(chest, walkScans + 1), EXPLICIT_LE));

  const readerUser = reader.user as { id: string };
  const moderatorId = String((moderator.user as { id?: string } | undefined)?.id ?? moderator.id);
  const session = async (name: string, scans: readonly BenchScan[]) =>
    String(
      (
        await api(base, 'POST', '/api/sessions', adminToken, {
          name,
          moderatorId,
          readerIds: [readerUser.id],
          scanIds: scans.map((s) => s.id),
        })
      ).id,
    );
  const openScans = [native, jpegLs];
  return {
    base,
    auth: { token: String(reader.token), user: reader.user },
    adminToken,
    openSession: { id: await session('viewer bench: direct open', openScans), scans: openScans },
    walkSession: { id: await session('viewer bench: worklist walk', [...walk, landing]), walk, landing },
  };
}

/**
 * Has the server render every preview and thumbnail and read every file once, as a worklist's
 * thumbnails do long before anyone reads: the walk then times the viewer, not first renders.
 */
export async function warmServer(setup: Setup): Promise<void> {
  const all = [...setup.openSession.scans, ...setup.walkSession.walk, setup.walkSession.landing];
  for (const scan of all) {
    for (const part of ['thumbnail', 'preview', 'dicom']) {
      const r = await fetch(`${setup.base}/api/scans/${scan.id}/${part}`, {
        headers: { authorization: `Bearer ${setup.adminToken}` },
      });
      await r.arrayBuffer();
      if (!r.ok) throw new Error(`warm-up ${part} of ${scan.name}: ${r.status}`);
    }
  }
}
