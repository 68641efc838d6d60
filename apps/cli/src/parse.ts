import { readFileSync } from 'node:fs';
import { type NumberRule, numberParser } from '@resnet-ts/train';
import { InvalidArgumentError } from 'commander';

// Numeric flags read by train's one rule set (resnet-bench uses the same), reported as commander's errors.
const numberFlag = (rule: NumberRule) => numberParser(rule, (message) => new InvalidArgumentError(message));

export const number = numberFlag('number');
export const integer = numberFlag('integer');
export const positiveInteger = numberFlag('positive-integer');
export const nonNegativeInteger = numberFlag('non-negative-integer');

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
