import { randomBytes } from 'node:crypto';

/**
 * `multipart/related` (RFC 2387) as DICOMweb uses it: STOW-RS bodies we send and WADO-RS
 * answers we read. Each part is `application/dicom`; headers are ASCII, bodies raw bytes.
 */

export interface MultipartBody {
  readonly contentType: string;
  /** Head, the parts' bytes and the separators in order: sent without copying the parts. */
  readonly chunks: Uint8Array[];
  readonly bytes: number;
}

/** Builds a STOW-RS body of DICOM instances given as consecutive byte parts each. */
export function multipartRelated(instances: readonly (readonly Uint8Array[])[]): MultipartBody {
  const boundary = `cxr-${randomBytes(12).toString('hex')}`;
  const chunks: Uint8Array[] = [];
  for (const parts of instances) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`, 'latin1'));
    chunks.push(...parts);
    chunks.push(Buffer.from('\r\n', 'latin1'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`, 'latin1'));
  return {
    contentType: `multipart/related; type="application/dicom"; boundary=${boundary}`,
    chunks,
    bytes: chunks.reduce((n, c) => n + c.byteLength, 0),
  };
}

/** The `boundary` parameter of a multipart content type, or undefined. */
export function boundaryOf(contentType: string): string | undefined {
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match ? (match[1] ?? match[2]) : undefined;
}

/**
 * The parts of a multipart body, as views into it (no copy). Trusts a part's Content-Length
 * when it gives one (a DICOM file may contain the boundary's bytes by chance), else ends each
 * part at the next delimiter line. Throws on a body that is not multipart with this boundary.
 */
export function splitMultipart(body: Uint8Array, boundary: string): Uint8Array[] {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const parts: Uint8Array[] = [];
  let at = buf.indexOf(delimiter);
  if (at < 0) throw new Error('multipart body without its boundary');
  for (;;) {
    at += delimiter.length;
    // "--" after a delimiter closes the body.
    if (buf[at] === 0x2d && buf[at + 1] === 0x2d) return parts;
    const headersEnd = buf.indexOf('\r\n\r\n', at, 'latin1');
    if (headersEnd < 0) throw new Error('multipart part without a header end');
    const headers = buf.toString('latin1', at, headersEnd);
    const start = headersEnd + 4;
    const length = /^content-length:\s*(\d+)\s*$/im.exec(headers);
    let end: number;
    if (length) {
      end = start + Number(length[1]);
      if (end > buf.length) throw new Error('multipart part shorter than its Content-Length');
    } else {
      const next = buf.indexOf(Buffer.from(`\r\n--${boundary}`, 'latin1'), start);
      if (next < 0) throw new Error('multipart part without a closing boundary');
      end = next;
    }
    parts.push(body.subarray(start, end));
    at = buf.indexOf(delimiter, end);
    if (at < 0) throw new Error('multipart body without its closing boundary');
  }
}
