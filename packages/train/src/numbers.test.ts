import { numberParser, parseNumber } from './numbers';

describe('parseNumber', () => {
  it.each([
    ['0.5', 'number', 0.5],
    ['-3', 'integer', -3],
    ['12', 'positive-integer', 12],
    ['0', 'non-negative-integer', 0],
    [' 7 ', 'positive-integer', 7],
  ] as const)('reads %j as %s', (text, rule, expected) => {
    expect(parseNumber(text, rule)).toBe(expected);
  });

  it.each([
    ['', 'number', 'expected a number, got ""'],
    ['1e999', 'number', 'expected a number, got "1e999"'],
    ['abc', 'number', 'expected a number, got "abc"'],
    ['2.5', 'integer', 'expected an integer, got "2.5"'],
    ['0', 'positive-integer', 'expected a positive integer, got "0"'],
    ['-1', 'non-negative-integer', 'expected an integer of 0 or more, got "-1"'],
  ] as const)('refuses %j as %s, saying what was expected', (text, rule, message) => {
    expect(() => parseNumber(text, rule)).toThrow(new RangeError(message));
  });

  it('numberParser reports with the error type it is given', () => {
    class FlagError extends Error {}
    const parse = numberParser('positive-integer', (message) => new FlagError(message));
    expect(parse('3')).toBe(3);
    expect(() => parse('x')).toThrow(FlagError);
    expect(() => parse('x')).toThrow('expected a positive integer, got "x"');
  });
});
