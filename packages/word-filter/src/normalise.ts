// Turns a message into the words the matcher walks, with a map from every unit back to the span of
// the original text it came from (so a match masks what the sender wrote). Allocation-light: one
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
import { APOSTROPHE, DIGIT, LEET_SYMBOL, LETTER, readingOf, SEPARATOR } from './fold';
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
 * reading or 0) and the UTF-16 span [start, end) of the original it came from.
 */
export class NormalisedText {
  length = 0;
  cp = new Int32Array(256);
  alt = new Int32Array(256);
  start = new Int32Array(256);
  end = new Int32Array(256);
  kind = new Uint8Array(256);
  flags = new Uint8Array(256);
  /** The first and last unit of the unit's word without its skippable leet symbols: what a wildcard term covers. */
  coreFirst = new Int32Array(256);
  coreLast = new Int32Array(256);

  fill(text: string): this {
    this.readUnits(text);
    this.joinWords();
    return this;
  }

  /** Pass 1: one unit per letter, digit or leet symbol, one BREAK per gap of separators. */
  private readUnits(text: string): void {
    let n = 0;
    let gap = false;
    let apostrophesOnly = false;
    for (let i = 0; i < text.length; ) {
      let cp = text.charCodeAt(i);
      let width = 1;
      if (cp >= 0xd800 && cp <= 0xdbff) {
        cp = text.codePointAt(i)!;
        if (cp > 0xffff) width = 2;
      }
      const reading = readingOf(cp);
      for (let k = 0; k < reading.length; k += 3) {
        const kind = reading[k]!;
        if (kind === SEPARATOR || kind === APOSTROPHE) {
          apostrophesOnly = (gap ? apostrophesOnly : true) && kind === APOSTROPHE;
          gap = n > 0;
          continue;
        }
        if (n + 2 > this.cp.length) this.grow();
        if (gap) {
          this.kind[n++] = apostrophesOnly ? APOSTROPHE_BREAK_KIND : BREAK_KIND;
          gap = false;
        }
        this.kind[n] = kind;
        this.cp[n] = reading[k + 1]!;
        this.alt[n] = reading[k + 2]!;
        this.start[n] = i;
        this.end[n] = i + width;
        n++;
      }
      i += width;
    }
    this.length = n;
  }

  /** Pass 2, in place: drops the BREAKs inside runs of one-character words, then finishes each word. */
  private joinWords(): void {
    const { kind, length } = this;
    let w = 0;
    let wordStart = 0;
    let previousSingle = false;
    for (let r = 0; r < length; r++) {
      // Still the break pass 1 wrote: at most r - 1 units have been written back so far.
      const contractionTail: boolean = r > 0 && kind[r - 1] === APOSTROPHE_BREAK_KIND && !previousSingle;
      let end = r;
      while (end < length && kind[end]! < BREAK_KIND) end++;
      const single: boolean = end - r === 1 && !contractionTail;
      if (w > 0 && !(single && previousSingle)) {
        this.finishWord(wordStart, w);
        this.setBreak(w++);
        wordStart = w;
      }
      for (; r < end; r++, w++) if (w !== r) this.move(r, w);
      previousSingle = single;
    }
    if (w > 0) this.finishWord(wordStart, w);
    this.length = w;
  }

  /** Reads leet in a word that is not a number and marks where the word may begin and end. */
  private finishWord(s: number, e: number): void {
    const { kind, cp, alt, flags } = this;
    let number = true;
    for (let i = s; i < e && number; i++) number = kind[i] === DIGIT;
    let first = s;
    let last = e - 1;
    if (!number) {
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
    }
    for (let i = s; i < e; i++) {
      flags[i] = (i < first ? LEAD_SKIP : 0) | (i > last ? TRAIL_SKIP : 0) | (i >= last ? END_OK : 0);
      this.coreFirst[i] = first;
      this.coreLast[i] = last;
    }
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
    this.end[to] = this.end[from]!;
  }

  private grow(): void {
    const size = this.cp.length * 2;
    const grown = <T extends Int32Array | Uint8Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(size);
      b.set(a);
      return b;
    };
    this.cp = grown(this.cp);
    this.alt = grown(this.alt);
    this.start = grown(this.start);
    this.end = grown(this.end);
    this.kind = grown(this.kind);
    this.flags = grown(this.flags);
    this.coreFirst = grown(this.coreFirst);
    this.coreLast = grown(this.coreLast);
  }
}

/**
 * Normalises into one buffer shared by every list in this thread: valid until the next call.
 * Safe because matching is synchronous; sharing keeps a room's filter from holding its own copy.
 */
const shared = new NormalisedText();

export function normalise(text: string): NormalisedText {
  return shared.fill(text);
}
