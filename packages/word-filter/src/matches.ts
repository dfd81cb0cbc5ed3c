// From the walks' raw findings (units of the normalised text) to what callers see: spans of the
// original text, chosen leftmost-longest so that overlapping terms ("fuck", "fuck you") give one
// match and a mask never covers a character twice.
import type { NormalisedText } from './normalise';

/** A match as units of the normalised text; `last` is inclusive. */
export interface RawMatch {
  first: number;
  last: number;
  term: string;
}

/** A blocked term found in a text: `text.slice(start, end)` is what the sender wrote for it. */
export interface WordMatch {
  /** UTF-16 offsets into the original text. */
  readonly start: number;
  readonly end: number;
  /** The term as it was given to compileWordList. */
  readonly term: string;
}

export function selectMatches(text: NormalisedText, raw: RawMatch[]): WordMatch[] {
  if (raw.length === 0) return [];
  raw.sort((x, y) => x.first - y.first || y.last - x.last);
  const matches: WordMatch[] = [];
  let taken = -1;
  for (const m of raw) {
    if (m.first <= taken) continue;
    matches.push({ start: text.start[m.first]!, end: text.endOf(m.last), term: m.term });
    taken = m.last;
  }
  return matches;
}
