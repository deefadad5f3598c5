/**
 * RFC 4180 CSV, the dialect of VinDr-CXR's files: comma separated, `\n` line ends on output
 * (`\r\n` accepted on input), a field is quoted only when it holds a comma, a quote or a line
 * break, and a header line first.
 */

/** One problem in an input file; `line` is 1-based and names the line the record starts on. */
export interface CsvProblem {
  readonly line: number;
  readonly message: string;
  /** Which file, when a check spans two (`annotations` or `image_labels`). */
  readonly file?: string;
}

/** A record and the line it starts on (records may span lines inside quotes). */
export interface CsvRecord {
  readonly line: number;
  readonly fields: string[];
}

function quote(field: string): string {
  return /[",\r\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
}

/** Joins records into CSV text with a final line end. */
export function writeCsv(rows: ReadonlyArray<ReadonlyArray<string>>): string {
  return rows.map((row) => row.map(quote).join(',')).join('\n') + '\n';
}

/**
 * Splits CSV text into records. Blank lines are skipped (a trailing line end is normal); a
 * byte-order mark is dropped. Fails on an unterminated quote or text after a closing quote.
 */
export function readCsv(text: string): { records: CsvRecord[]; problems: CsvProblem[] } {
  const records: CsvRecord[] = [];
  const problems: CsvProblem[] = [];
  const src = text.startsWith('\uFEFF') ? text.slice(1) : text;
  let line = 1;
  let i = 0;
  while (i < src.length) {
    const start = line;
    const fields: string[] = [];
    let field = '';
    let inQuotes = false;
    let quotedAt = 0;
    let bad = false;
    let ended = false;
    while (i < src.length && !ended) {
      const c = src[i]!;
      if (inQuotes) {
        if (c === '"') {
          if (src[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          inQuotes = false;
          i++;
          const next = src[i];
          if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r' && !bad) {
            problems.push({ line, message: 'text after a closing quote' });
            bad = true;
          }
          continue;
        }
        if (c === '\n') line++;
        field += c;
        i++;
        continue;
      }
      if (c === '"' && field === '') {
        inQuotes = true;
        quotedAt = line;
        i++;
      } else if (c === ',') {
        fields.push(field);
        field = '';
        i++;
      } else if (c === '\n' || c === '\r') {
        i += c === '\r' && src[i + 1] === '\n' ? 2 : 1;
        line++;
        ended = true;
      } else {
        field += c;
        i++;
      }
    }
    if (inQuotes) {
      problems.push({ line: quotedAt, message: 'a quoted field is never closed' });
      break;
    }
    fields.push(field);
    const blank = fields.length === 1 && fields[0] === '';
    if (!blank && !bad) records.push({ line: start, fields });
  }
  return { records, problems };
}
