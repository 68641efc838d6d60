/** What a number given as text (a command-line flag, an environment variable) must be. */
export type NumberRule = 'number' | 'integer' | 'positive-integer' | 'non-negative-integer';

const EXPECTED: Record<NumberRule, string> = {
  number: 'a number',
  integer: 'an integer',
  'positive-integer': 'a positive integer',
  'non-negative-integer': 'an integer of 0 or more',
};

/**
 * Reads `text` as a number that follows `rule`; anything else (blank text, `1e999`, `2.5` for an
 * integer, `0` for a positive one) is a RangeError that says what was expected and what was given,
 * e.g. `expected a positive integer, got "0"`. The one reading of numeric flags of the `resnet` CLI
 * and `resnet-bench`.
 */
export function parseNumber(text: string, rule: NumberRule): number {
  const value = Number(text);
  const ok =
    text.trim() !== '' &&
    Number.isFinite(value) &&
    (rule === 'number' || Number.isInteger(value)) &&
    (rule !== 'positive-integer' || value >= 1) &&
    (rule !== 'non-negative-integer' || value >= 0);
  if (!ok) throw new RangeError(`expected ${EXPECTED[rule]}, got "${text}"`);
  return value;
}

/**
 * A parser for one rule, for flag libraries: `numberParser('positive-integer', (m) => new
 * InvalidArgumentError(m))` gives commander's `.option(…, parser)` the error type it reports.
 */
export function numberParser(
  rule: NumberRule,
  toError: (message: string) => Error = (message) => new RangeError(message),
): (text: string) => number {
  return (text) => {
    try {
      return parseNumber(text, rule);
    } catch (error) {
      throw toError((error as Error).message);
    }
  };
}
