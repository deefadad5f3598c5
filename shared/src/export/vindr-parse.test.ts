import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LOCAL_LABELS } from '../model/labels.js';
import type { CsvProblem } from './csv-text.js';
import {
  consensusImageLabelsCsv,
  IMAGE_LABELS_TEST_COLUMNS,
  IMAGE_LABELS_TRAIN_COLUMNS,
} from './vindr-csv.js';
import { parseAnnotationsCsv, parseImageLabelsCsv } from './vindr-parse.js';
import { readingsFromVindrCsv } from './vindr-readings.js';

const A_TEST = 'image_id,class_name,x_min,y_min,x_max,y_max';
const A_TRAIN = 'image_id,rad_id,class_name,x_min,y_min,x_max,y_max';
const zeros = (n: number) => Array(n).fill('0').join(',');
const L_TEST = IMAGE_LABELS_TEST_COLUMNS.join(',');
const L_TRAIN = IMAGE_LABELS_TRAIN_COLUMNS.join(',');

function problems(result: { ok: true } | { ok: false; error: CsvProblem[] }): CsvProblem[] {
  if (result.ok) throw new Error('expected problems, the input parsed');
  return result.error;
}

/** Each bad input, the line its first problem is on and a piece of its message. */
const BAD_ANNOTATIONS: Array<[name: string, text: string, line: number, message: string]> = [
  ['empty file', '', 1, 'empty file'],
  ['only a blank line', '\n\n', 1, 'empty file'],
  [
    'wrong header',
    'image,class_name,x_min,y_min,x_max,y_max\n',
    1,
    'column 1 is "image", expected "image_id"',
  ],
  ['extra column', `${A_TEST},score\n`, 1, 'extra column'],
  ['too few fields', `${A_TEST}\nabc,Nodule/Mass,1,2,3\n`, 2, 'expected 6 fields, found 5'],
  [
    'unknown label, wrong case',
    `${A_TEST}\nabc,Nodule/Mass,1,2,3,4\nabc,Lung opacity,1,2,3,4\n`,
    3,
    'did you mean "Lung Opacity"',
  ],
  ['unknown label', `${A_TEST}\nabc,Pneumonitis,1,2,3,4\n`, 2, 'unknown class_name "Pneumonitis"'],
  ['global label with a box', `${A_TEST}\nabc,COPD,1,2,3,4\n`, 2, 'is a global label'],
  ['coordinate not a number', `${A_TEST}\nabc,ILD,1,2,3,four\n`, 2, 'y_max "four" is not a number'],
  ['coordinate with a unit', `${A_TEST}\nabc,ILD,1px,2,3,4\n`, 2, 'x_min "1px" is not a number'],
  ['missing coordinate', `${A_TEST}\nabc,ILD,1,,3,4\n`, 2, 'y_min is empty'],
  ['empty box', `${A_TEST}\nabc,ILD,5,2,5,4\n`, 2, 'needs x_min < x_max'],
  ['inverted box', `${A_TEST}\nabc,ILD,1,9,3,4\n`, 2, 'y_min < y_max'],
  ['No finding with coordinates', `${A_TEST}\nabc,No finding,1,2,3,4\n`, 2, 'empty coordinates'],
  ['empty image_id', `${A_TEST}\n,ILD,1,2,3,4\n`, 2, 'image_id "" is not valid: it is empty'],
  ['image_id with a space', `${A_TEST}\na b,ILD,1,2,3,4\n`, 2, 'image_id "a b" is not valid'],
  ['train layout without rad_id value', `${A_TRAIN}\nabc,,ILD,1,2,3,4\n`, 2, 'rad_id "" is not valid'],
  ['unterminated quote', `${A_TEST}\nabc,"ILD,1,2,3,4\n`, 2, 'quoted field is never closed'],
  ['text after a quote', `${A_TEST}\nabc,"ILD"x,1,2,3,4\n`, 2, 'text after a closing quote'],
];

const BAD_LABELS: Array<[name: string, text: string, line: number, message: string]> = [
  ['empty file', '', 1, 'empty file'],
  ['train spelling is fine, but a label is missing', `image_id,${LOCAL_LABELS.join(',')}\n`, 1, 'column 24'],
  [
    'flag not 0/1',
    `${L_TEST}\nabc,2,${zeros(27)}\n`,
    2,
    'column "Aortic enlargement" must be 0 or 1, found "2"',
  ],
  ['flag empty', `${L_TEST}\nabc,,${zeros(27)}\n`, 2, 'must be 0 or 1, found ""'],
  ['short row', `${L_TEST}\nabc,${zeros(27)}\n`, 2, 'expected 29 fields, found 28'],
  ['duplicate image', `${L_TEST}\nabc,${zeros(28)}\nabc,${zeros(28)}\n`, 3, 'already has a row (line 2)'],
  [
    'duplicate image and reader',
    `${L_TRAIN}\nabc,R1,${zeros(28)}\nabc,R1,${zeros(28)}\n`,
    3,
    'reader R1 already has a row',
  ],
];

describe('parseAnnotationsCsv: bad inputs, each with its line and error', () => {
  for (const [name, text, line, message] of BAD_ANNOTATIONS) {
    it(`R-EXPORT-5: ${name}`, () => {
      const [first] = problems(parseAnnotationsCsv(text));
      expect(first).toMatchObject({ line });
      expect(first!.message).toContain(message);
    });
  }

  it('R-EXPORT-5: every bad line is reported, not only the first', () => {
    const text = `${A_TEST}\nabc,ILD,1,2,3,4\nabc,ILD,x,2,3,4\nabc,Foo,1,2,3,4\nabc,ILD,1,2,3\n`;
    expect(problems(parseAnnotationsCsv(text)).map((p) => p.line)).toEqual([3, 4, 5]);
  });

  it('R-EXPORT-5: accepts CRLF, a byte-order mark, quoted fields, rad_ID and VinDr-style decimals', () => {
    const text = `\uFEFFimage_id,rad_ID,class_name,x_min,y_min,x_max,y_max\r\n"abc",R9,"Nodule/Mass",691.0,1375.0,1653,1831.5\r\n`;
    const parsed = parseAnnotationsCsv(text);
    expect(parsed).toEqual({
      ok: true,
      value: {
        layout: 'train',
        rows: [
          {
            line: 2,
            imageId: 'abc',
            radId: 'R9',
            className: 'Nodule/Mass',
            box: { x_min: 691, y_min: 1375, x_max: 1653, y_max: 1831.5 },
          },
        ],
      },
    });
  });
});

describe('parseImageLabelsCsv: bad inputs, each with its line and error', () => {
  for (const [name, text, line, message] of BAD_LABELS) {
    it(`R-EXPORT-5: ${name}`, () => {
      const [first] = problems(parseImageLabelsCsv(text));
      expect(first).toMatchObject({ line });
      expect(first!.message).toContain(message);
    });
  }

  it('R-EXPORT-5: reads both spellings of Other disease(s) in either layout', () => {
    const test = parseImageLabelsCsv(
      L_TEST.replace('Other disease', 'Other diseases') + `\nabc,${zeros(26)},1,0\n`,
    );
    expect(test.ok && test.value.rows[0]!.globals).toEqual(['Other diseases']);
  });
});

describe('readingsFromVindrCsv: the two files must agree', () => {
  const labels = (flags: string) => parseImageLabelsCsv(`${L_TEST}\n${flags}\n`);
  const annotations = (rows: string) => parseAnnotationsCsv(`${A_TEST}\n${rows}\n`);
  const join = (a: ReturnType<typeof annotations>, l: ReturnType<typeof labels>) => {
    if (!a.ok || !l.ok) throw new Error('fixture does not parse');
    return readingsFromVindrCsv(a.value, l.value);
  };
  const imageLabels = (set: string[]) =>
    consensusImageLabelsCsv([{ imageId: 'abc', findings: [], globals: [] }])
      .split('\n')[1]!
      .split(',')
      .map((v, i) => (i > 0 && set.includes(IMAGE_LABELS_TEST_COLUMNS[i]!) ? '1' : v))
      .join(',');

  it('R-EXPORT-5: flags that disagree with the boxes', () => {
    const [p] = problems(join(annotations('abc,ILD,1,2,3,4'), labels(imageLabels(['Edema']))));
    expect(p).toMatchObject({ line: 2, file: 'image_labels' });
    expect(p!.message).toContain('flags [Edema] disagree with the boxes [ILD]');
  });

  it('R-EXPORT-5: an image in one file only', () => {
    const [p] = problems(join(annotations('xyz,ILD,1,2,3,4'), labels(imageLabels(['ILD']))));
    expect(p!.message).toContain('image abc has no rows in annotations');
  });

  it('R-EXPORT-5: No finding next to boxes', () => {
    const [p] = problems(
      join(annotations('abc,No finding,,,,\nabc,ILD,1,2,3,4'), labels(imageLabels(['ILD']))),
    );
    expect(p).toMatchObject({ line: 2, file: 'annotations' });
  });

  it('R-EXPORT-5: layouts differ', () => {
    const a = parseAnnotationsCsv(`${A_TRAIN}\nabc,R1,ILD,1,2,3,4\n`);
    const l = labels(imageLabels(['ILD']));
    if (!a.ok || !l.ok) throw new Error('fixture does not parse');
    expect(problems(readingsFromVindrCsv(a.value, l.value))[0]!.message).toContain('layouts differ');
  });
});

describe('parsers under seeded fuzz', () => {
  const valid = `${A_TRAIN}\nabc,R1,Nodule/Mass,1.5,2,30,40\nabc,R2,No finding,,,,\n`;
  it('R-EXPORT-5: random edits never throw; problems name a line of the input', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(valid.length), fc.constantFrom('', ',', '"', '\n', 'x', '-', '.', '\r')), {
          maxLength: 6,
        }),
        (edits) => {
          let text = valid;
          for (const [at, put] of edits) text = text.slice(0, at) + put + text.slice(at + 1);
          const lines = text.split(/\r\n|\r|\n/).length;
          for (const result of [parseAnnotationsCsv(text), parseImageLabelsCsv(text)]) {
            if (result.ok) continue;
            expect(result.error.length).toBeGreaterThan(0);
            for (const p of result.error) {
              expect(p.line).toBeGreaterThanOrEqual(1);
              expect(p.line).toBeLessThanOrEqual(lines);
            }
          }
        },
      ),
      { seed: 4242, numRuns: 500 },
    );
  });
});
