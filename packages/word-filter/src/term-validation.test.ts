// Moderators set room lists over the wire: a bad term is refused with an error that names it and
// says why, and the whole list is refused with it.
import { InvalidTermError, TooManyTermsError, WordListError } from './errors';
import { compileWordList, MAX_TERM_LENGTH, MAX_TERMS } from './word-list';

/** The i-th of many distinct words of letters only ("aa", "ab", …): digits would read as leetspeak. */
const word = (i: number) => `z${i.toString(26).replace(/\d/g, (d) => 'qrstuvwxyz'[Number(d)]!)}`;
const compile = (terms: readonly unknown[], maxTerms?: number) => compileWordList(terms as string[], { action: 'mask', maxTerms });

function rejection(terms: readonly unknown[]): InvalidTermError {
  try {
    compile(terms);
  } catch (err) {
    if (err instanceof InvalidTermError) return err;
    throw err;
  }
  throw new Error('the list was accepted');
}

test.each([
  ['', 'empty'],
  ['   ', 'empty'],
  ['-?.', 'empty'],
  ['\u200b\u0301', 'empty'],
  ['*', 'empty'],
  ['***', 'empty'],
  ['f*ck', 'misplaced-wildcard'],
  ['x'.repeat(MAX_TERM_LENGTH + 1), 'too-long'],
  ['\ufdfa'.repeat(10), 'too-long'], // short as given, 180 letters once decomposed
  [42, 'not-a-string'],
])('the term %j is refused as %s, naming its place in the list', (term, reason) => {
  const err = rejection(['fine', term]);
  expect(err).toBeInstanceOf(WordListError);
  expect(err.name).toBe('InvalidTermError');
  expect(err.reason).toBe(reason);
  expect(err.index).toBe(1);
  expect(err.term).toBe(term);
  expect(err.message).toMatch(/^term 1 /);
});

test('the error says what is wrong in words a moderator can act on', () => {
  expect(rejection(['f*ck']).message).toBe(`term 0 "f*ck" has a '*' inside: '*' may only begin or end a term`);
  expect(rejection(['']).message).toBe('term 0 "" has no letters or digits');
});

test('a list longer than the limit is refused with its length and the limit', () => {
  const terms = Array.from({ length: MAX_TERMS + 1 }, (_, i) => word(i));
  expect(() => compile(terms)).toThrow(TooManyTermsError);
  expect(() => compile(terms)).toThrow(`a word list holds at most ${MAX_TERMS} terms, got ${MAX_TERMS + 1}`);
  expect(() => compile(['a', 'b', 'c'], 2)).toThrow(expect.objectContaining({ name: 'TooManyTermsError', count: 3, max: 2 }));
});

test('terms at the limits, padded or repeated, are accepted and match', () => {
  const longest = 'x'.repeat(MAX_TERM_LENGTH);
  const terms = [...Array.from({ length: MAX_TERMS - 3 }, (_, i) => word(i)), '  fuck ', 'FUCK', longest];
  const list = compile(terms);
  expect(list.size).toBe(MAX_TERMS);
  expect(list.find(`fuck ${longest} ${word(MAX_TERMS)}`).map((m) => m.term)).toEqual(['  fuck ', longest]);
  expect(list.find(`${word(0)}, ${word(MAX_TERMS - 4)}`).map((m) => m.term)).toEqual([word(0), word(MAX_TERMS - 4)]);
});
