/**
 * How exports print pixel coordinates: the shortest decimal that reads back as the very same
 * double (ECMAScript `Number.prototype.toString`), so nothing is rounded away and nothing is
 * padded (`512`, `100.25`, never `512.000000`); never exponent notation (CSV readers and
 * spreadsheets disagree about `1e-7`); `-0` prints as `0`.
 */
export function formatCoordinate(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`cannot export coordinate ${value}`);
  if (value === 0) return '0';
  const text = String(value);
  return text.includes('e') ? expandExponent(text) : text;
}

/** `1.5e-7` -> `0.00000015`, `1e+21` -> `1000000000000000000000`: same digits, no exponent. */
function expandExponent(text: string): string {
  const match = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!match) throw new Error(`unexpected number text ${text}`);
  const [, sign, lead, fraction = '', exp] = match;
  const digits = lead + fraction;
  const point = 1 + Number(exp);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return sign + digits + '0'.repeat(point - digits.length);
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Reads a coordinate as VinDr's files and ours print it; `undefined` when it is not a number. */
export function parseCoordinate(text: string): number | undefined {
  const trimmed = text.trim();
  if (!DECIMAL.test(trimmed)) return undefined;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : undefined;
}
