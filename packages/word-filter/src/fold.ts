// How the matcher reads one code point of a message: compatibility-decomposed (NFKD: fullwidth,
// mathematical and circled letters become plain ones, accents come apart), accents and invisible
// characters dropped, look-alikes read as Latin, lower-cased, then sorted into letters, digits,
// leet symbols and separators. Computed once per code point and cached; ASCII has a fixed table.
import { CONFUSABLES } from './confusables';
import { LEET } from './leet';

export const SEPARATOR = 0;
export const LETTER = 1;
export const DIGIT = 2;
/** A symbol that may stand for a letter ("$", "@", "!"), or may be punctuation. */
export const LEET_SYMBOL = 3;
/** A separator that may sit inside a word ("don't"); see normalise.ts for what it changes. */
export const APOSTROPHE = 4;

/**
 * A code point's reading: [kind, code point, second reading or 0] for each unit it gives (ß gives
 * two, an accent or a zero-width space none). Units with no second reading are the norm; capital
 * I and small l get each other's because the two are drawn alike ("SHlT").
 */
export type Reading = Int32Array;

const NONE: Reading = new Int32Array(0);
const APOSTROPHES = new Set([0x27, 0x2019, 0x02bc]);
/** Combining marks and default-ignorables (zero-width spaces and joiners, soft hyphen, Hangul fillers, variation selectors, tags). */
const INVISIBLE = /[\p{M}\p{Default_Ignorable_Code_Point}]/u;
const LETTER_RE = /\p{L}/u;
const WHITESPACE = /\s/u;
const DIGIT_RE = /\p{Nd}/u;
/** Enough for every code point a chat is likely to use; past it, rare ones are read without caching. */
const CACHE_LIMIT = 20_000;

const ASCII: Reading[] = Array.from({ length: 128 }, (_, c) => asciiReading(c));
/** The same for ASCII, flat, for the normaliser's inner loop: kind, code point and second reading by char code. */
export const ASCII_KIND = Uint8Array.from(ASCII, (r) => r[0]!);
export const ASCII_CP = Uint8Array.from(ASCII, (r) => r[1]!);
export const ASCII_ALT = Uint8Array.from(ASCII, (r) => r[2]!);
const cache = new Map<number, Reading>();

function asciiReading(c: number): Reading {
  if (APOSTROPHES.has(c)) return Int32Array.of(APOSTROPHE, c, 0);
  if (c >= 0x61 && c <= 0x7a) return Int32Array.of(LETTER, c, c === 0x6c ? 0x69 : 0);
  if (c >= 0x41 && c <= 0x5a) return Int32Array.of(LETTER, c + 0x20, c === 0x49 ? 0x6c : 0);
  if (c >= 0x30 && c <= 0x39) return Int32Array.of(DIGIT, c, 0);
  return Int32Array.of(LEET.has(c) ? LEET_SYMBOL : SEPARATOR, c, 0);
}

export function readingOf(cp: number): Reading {
  if (cp < 128) return ASCII[cp]!;
  let reading = cache.get(cp);
  if (reading === undefined) {
    reading = computeReading(cp);
    if (cache.size < CACHE_LIMIT) cache.set(cp, reading);
  }
  return reading;
}

/** Whether a code point is drawn at all: masking writes one '*' per drawn code point. */
export function isInvisible(cp: number): boolean {
  return INVISIBLE.test(String.fromCodePoint(cp));
}

export function isWhitespace(cp: number): boolean {
  return WHITESPACE.test(String.fromCodePoint(cp));
}

function computeReading(cp: number): Reading {
  const units: number[] = [];
  for (const part of String.fromCodePoint(cp).normalize('NFKD')) {
    const d = part.codePointAt(0)!;
    if (d < 128) {
      units.push(...ASCII[d]!);
      continue;
    }
    if (INVISIBLE.test(part)) continue;
    const latin = CONFUSABLES.get(d) ?? CONFUSABLES.get(lowerCodePoint(part));
    for (const ch of latin ?? part.toLowerCase()) units.push(...readSingle(ch));
  }
  return units.length ? Int32Array.from(units) : NONE;
}

function lowerCodePoint(ch: string): number {
  return ch.toLowerCase().codePointAt(0)!;
}

/** One code point already decomposed, mapped and lower-cased. */
function readSingle(ch: string): Iterable<number> {
  const c = ch.codePointAt(0)!;
  if (c < 128) return ASCII[c]!;
  if (APOSTROPHES.has(c)) return [APOSTROPHE, c, 0];
  if (INVISIBLE.test(ch)) return NONE;
  if (LETTER_RE.test(ch)) return [LETTER, c, 0];
  if (DIGIT_RE.test(ch)) return [DIGIT, c, 0];
  return [LEET.has(c) ? LEET_SYMBOL : SEPARATOR, c, 0];
}
