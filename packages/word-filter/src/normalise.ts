// Turns a message into the words the matcher walks, with a map from every unit back to where it
// starts in the original text (so a match masks what the sender wrote). Allocation-light: one
// pass over the text writes units into reused typed arrays, a second pass over those units joins
// spaced-out letters and reads leetspeak in place.
//
// The word rule (what "a whole word" means to the matcher):
// - A word is a run of letters, digits and leet symbols; invisible characters (zero-width,
//   combining accents) do not end it; spaces, punctuation and emoji do.
// - A run of two or more one-character words is one word: "f u c k", "f.u.c.k", "f_u-c*k" are "fuck".
//   A letter after an apostrophe that follows a longer word ("don't", "shit's") is a contraction's
//   tail, not a spaced-out letter: it stays a word of its own and does not join the next ones.
// - In a word that is not all digits, digits and leet symbols are read as letters ("sh1t", "@$$");
//   a number ("455", "1 4 8 8") stays a number.
// - Leet symbols at the start or end of a word may also be punctuation, so "shit!" ends at "t".
import { APOSTROPHE, ASCII_ALT, ASCII_CP, ASCII_KIND, DIGIT, LEET_SYMBOL, LETTER, readingOf, SEPARATOR } from './fold';
import { LEET } from './leet';

/** The unit between two words; also the symbol between the words of a several-word term. */
export const BREAK = 0x20;
/** Unit kinds of a BREAK (the letter kinds are in fold.ts); pass 1 tells a gap of apostrophes only. */
const BREAK_KIND = 9;
const APOSTROPHE_BREAK_KIND = 10;

/** A leading leet symbol the matcher may pass over before a word begins. */
export const LEAD_SKIP = 1;
/** A trailing leet symbol the matcher may pass over after a word ends. */
export const TRAIL_SKIP = 2;
/** A word may end right after this unit. */
export const END_OK = 4;
/** The first unit of a word. */
export const WORD_START = 8;

/**
 * The normalised form of one text: `length` units, each a code point (`cp`, with `alt` a second
 * reading or 0) and where in `source` (UTF-16 offset) the character it came from starts.
 */
export class NormalisedText {
  source = '';
  length = 0;
  cp: Int32Array;
  alt: Int32Array;
  start: Int32Array;
  kind: Uint8Array;
  flags: Uint8Array;

  constructor(capacity = 512) {
    this.cp = new Int32Array(capacity);
    this.alt = new Int32Array(capacity);
    this.start = new Int32Array(capacity);
    this.kind = new Uint8Array(capacity);
    this.flags = new Uint8Array(capacity);
  }

  fill(text: string): this {
    this.source = text;
    this.readUnits(text);
    this.joinWords();
    return this;
  }

  /** Where in `source` the character of unit `i` ends. */
  endOf(i: number): number {
    const at = this.start[i]!;
    return at + (this.source.codePointAt(at)! > 0xffff ? 2 : 1);
  }

  /** The first unit of `i`'s word that is not a leading leet symbol: where a '*term' match begins. */
  coreFirstOf(i: number): number {
    while ((this.flags[i]! & WORD_START) === 0) i--;
    while ((this.flags[i]! & LEAD_SKIP) !== 0) i++;
    return i;
  }

  /** The last unit of `i`'s word that is not a trailing leet symbol: where a 'term*' match ends. */
  coreLastOf(i: number): number {
    while (i + 1 < this.length && this.kind[i + 1] !== BREAK_KIND) i++;
    while ((this.flags[i]! & TRAIL_SKIP) !== 0) i--;
    return i;
  }

  /** Pass 1: one unit per letter, digit or leet symbol, one BREAK per gap of separators. */
  private readUnits(text: string): void {
    // ASCII gives at most a unit and a BREAK per character; longer readings check again below.
    if (this.cp.length < text.length * 2 + 2) this.grow(text.length * 2 + 2);
    let { cp: cps, alt, start, kind: kinds, flags } = this;
    let n = 0;
    let gap = false;
    let apostrophesOnly = false;
    for (let i = 0; i < text.length;) {
      const c = text.charCodeAt(i);
      if (c < 128) {
        const kind = ASCII_KIND[c]!;
        if (kind === SEPARATOR || kind === APOSTROPHE) {
          apostrophesOnly = (gap ? apostrophesOnly : true) && kind === APOSTROPHE;
          gap = n > 0;
        } else {
          if (gap) {
            kinds[n++] = apostrophesOnly ? APOSTROPHE_BREAK_KIND : BREAK_KIND;
            gap = false;
          }
          kinds[n] = kind;
          cps[n] = ASCII_CP[c]!;
          alt[n] = ASCII_ALT[c]!;
          start[n] = i;
          flags[n++] = 0;
        }
        i++;
        continue;
      }
      const code = text.codePointAt(i)!;
      const reading = readingOf(code);
      if (n + reading.length + 2 * (text.length - i) > cps.length) {
        this.grow(n + reading.length + 2 * text.length);
        ({ cp: cps, alt, start, kind: kinds, flags } = this);
      }
      for (let k = 0; k < reading.length; k += 3) {
        const kind = reading[k]!;
        if (kind === SEPARATOR || kind === APOSTROPHE) {
          apostrophesOnly = (gap ? apostrophesOnly : true) && kind === APOSTROPHE;
          gap = n > 0;
          continue;
        }
        if (gap) {
          kinds[n++] = apostrophesOnly ? APOSTROPHE_BREAK_KIND : BREAK_KIND;
          gap = false;
        }
        kinds[n] = kind;
        cps[n] = reading[k + 1]!;
        alt[n] = reading[k + 2]!;
        start[n] = i;
        flags[n++] = 0;
      }
      i += code > 0xffff ? 2 : 1;
    }
    this.length = n;
  }

  /** Pass 2, in place: drops the BREAKs inside runs of one-character words, then finishes each word. */
  private joinWords(): void {
    const { kind, length } = this;
    let w = 0;
    let wordStart = 0;
    /** Bit 1 << kind for each kind of unit in the word so far. */
    let wordKinds = 0;
    let previousSingle = false;
    for (let r = 0; r < length; r++) {
      // Still the break pass 1 wrote: at most r - 1 units have been written back so far.
      const contractionTail: boolean = r > 0 && kind[r - 1] === APOSTROPHE_BREAK_KIND && !previousSingle;
      let end = r;
      let tokenKinds = 0;
      for (let k: number; end < length && (k = kind[end]!) < BREAK_KIND; end++) tokenKinds |= 1 << k;
      const single: boolean = end - r === 1 && !contractionTail;
      if (w > 0 && !(single && previousSingle)) {
        this.finishWord(wordStart, w, wordKinds);
        this.setBreak(w++);
        wordStart = w;
        wordKinds = 0;
      }
      wordKinds |= tokenKinds;
      if (w === r) w = r = end;
      else for (; r < end; r++, w++) this.move(r, w);
      previousSingle = single;
    }
    if (w > 0) this.finishWord(wordStart, w, wordKinds);
    this.length = w;
  }

  /** Reads leet in a word that is not a number and marks where the word may begin and end. */
  private finishWord(s: number, e: number, kinds: number): void {
    const { kind, cp, alt, flags } = this;
    let first = s;
    let last = e - 1;
    // Only a word with digits or symbols and not digits only (a number) is read as leetspeak.
    if (kinds !== 1 << LETTER && kinds !== 1 << DIGIT) {
      for (let i = s; i < e; i++) {
        const leet = kind[i] === LETTER ? undefined : LEET.get(cp[i]!);
        if (leet) {
          cp[i] = leet[0];
          alt[i] = leet[1];
        }
      }
      while (first <= last && kind[first] === LEET_SYMBOL) first++;
      while (last >= first && kind[last] === LEET_SYMBOL) last--;
      // A word of symbols only ("@$$") is read as letters throughout.
      if (first > last) {
        first = s;
        last = e - 1;
      }
      for (let i = s; i < first; i++) flags[i] = LEAD_SKIP;
      for (let i = last + 1; i < e; i++) flags[i] = TRAIL_SKIP;
    }
    for (let i = last; i < e; i++) flags[i]! |= END_OK;
    flags[s]! |= WORD_START;
  }

  private setBreak(i: number): void {
    this.kind[i] = BREAK_KIND;
    this.cp[i] = BREAK;
    this.alt[i] = 0;
    this.flags[i] = 0;
  }

  private move(from: number, to: number): void {
    this.kind[to] = this.kind[from]!;
    this.cp[to] = this.cp[from]!;
    this.alt[to] = this.alt[from]!;
    this.start[to] = this.start[from]!;
    this.flags[to] = 0;
  }

  private grow(atLeast: number): void {
    let size = this.cp.length;
    while (size < atLeast) size *= 2;
    const grown = <T extends Int32Array | Uint8Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(size);
      b.set(a);
      return b;
    };
    this.cp = grown(this.cp);
    this.alt = grown(this.alt);
    this.start = grown(this.start);
    this.kind = grown(this.kind);
    this.flags = grown(this.flags);
  }
}

/**
 * Normalises into one buffer shared by every list in this thread: valid until the next call.
 * Safe because matching is synchronous; sharing keeps a room's filter from holding its own copy.
 * A text longer than any chat message gets a buffer of its own, so the shared one stays small.
 */
const shared = new NormalisedText();
const SHARED_MAX_LENGTH = 16_384;

export function normalise(text: string): NormalisedText {
  return (text.length > SHARED_MAX_LENGTH ? new NormalisedText(text.length * 2 + 2) : shared).fill(text);
}
