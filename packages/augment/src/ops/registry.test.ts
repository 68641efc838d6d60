import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { compose } from '../compose';
import { AUGMENT_OPS, type AugmentStep, checkStep } from '.';
import type { AugmentOp } from './op';

const readme = path.join(__dirname, '..', '..', 'README.md');
const START = '<!-- ops-table:start (generated from src/ops/index.ts; see src/ops/registry.test.ts) -->';
const END = '<!-- ops-table:end -->';

/** The README's table of ops, made from the registry. */
function opsTable(): string {
  const fields = (op: AugmentOp) =>
    Object.entries(op.fields)
      .map(([name, f]) => {
        const fallback = f.optional ? (f.default === undefined ? '?' : ` = ${f.default}`) : '';
        return `\`${name}${fallback}\` (${f.expected}${f.valid ? '' : '; not checked'}): ${f.doc}`;
      })
      .join('<br>');
  const rows = (AUGMENT_OPS as readonly AugmentOp[]).map(
    (op) => `| \`${op.name}\` | ${fields(op)} | ${op.summary} |`,
  );
  return ['| op | fields | what it does |', '|---|---|---|', ...rows].join('\n');
}

describe('the op registry', () => {
  it('lists each op once, each in its own file named after it', () => {
    const names = AUGMENT_OPS.map((op) => op.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) {
      const file = name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
      expect(existsSync(path.join(__dirname, `${file}.ts`))).toBe(true);
    }
  });

  it('the README lists every registered op, as the registry describes it', () => {
    const text = readFileSync(readme, 'utf8');
    const start = text.indexOf(START);
    const end = text.indexOf(END);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    const table = opsTable();
    if (process.env.UPDATE_README === '1') {
      writeFileSync(readme, `${text.slice(0, start + START.length)}\n${table}\n${text.slice(end)}`);
      return;
    }
    // Out of date: run `UPDATE_README=1 npx jest src/ops/registry` in packages/augment.
    expect(text.slice(start + START.length, end).trim()).toBe(table);
  });

  it('checks every field the schema checks, naming the step and field', () => {
    for (const op of AUGMENT_OPS as readonly AugmentOp[]) {
      // Every required field of today's ops takes 1, so each bad field is the one reported.
      const fields = Object.entries(op.fields);
      const base = Object.fromEntries(fields.filter(([, f]) => !f.optional).map(([name]) => [name, 1]));
      expect(() => checkStep({ op: op.name, ...base }, 3)).not.toThrow();
      for (const [name, field] of fields) {
        if (!field.valid) continue;
        expect(() => checkStep({ op: op.name, ...base, [name]: 'nonsense' }, 3)).toThrow(
          `steps[3].${name}: expected ${field.expected}, got "nonsense"`,
        );
      }
    }
    expect(() => compose({ steps: [{ op: 'colorJitter', brightness: -1 }] })).toThrow(
      'steps[0].brightness: expected a non-negative amount, got -1',
    );
    expect(() => compose({ steps: [{ op: 'randomResizedCrop', size: 8, scale: [0.5, 0.1] }] })).toThrow(
      'steps[0].scale: expected 0 < min <= max <= 1, got [0.5,0.1]',
    );
    expect(() => compose({ steps: [{ op: 'flip' }, { op: 'randomErasing', probability: 2 }] })).toThrow(
      'steps[1].probability: expected a probability 0–1, got 2',
    );
  });

  it('derives the step type from the schemas', () => {
    const steps: AugmentStep[] = [
      { op: 'padCropFlip', padding: 4 },
      { op: 'flip', vertical: 0.5 },
      { op: 'randomResizedCrop', size: 224, scale: [0.35, 1] },
      // @ts-expect-error a required field is missing
      { op: 'resizeAndCenterCrop', size: 224 },
      // @ts-expect-error not a registered op
      { op: 'rotate' },
    ];
    expect(steps).toHaveLength(5);
  });
});
