import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';

export function number(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new InvalidArgumentError(`expected a number, got "${value}"`);
  return n;
}

export function integer(value: string): number {
  const n = number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`expected an integer, got "${value}"`);
  return n;
}

export function positiveInteger(value: string): number {
  const n = integer(value);
  if (n < 1) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return n;
}

/** Inline JSON, or `@file.json`. */
export function json(value: string): unknown {
  let text = value;
  if (value.startsWith('@')) {
    try {
      text = readFileSync(value.slice(1), 'utf8');
    } catch {
      throw new InvalidArgumentError(`cannot read ${value.slice(1)}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidArgumentError(`expected JSON or @file.json (${(error as Error).message})`);
  }
}
