// One block list (the deployment's, or a room's), compiled once into two tries: terms that must
// begin at a word's start, and '*term' ones that may begin inside a word. Recompiled only when the
// list changes; matching a message never loops over the terms.
//
// A term matches a whole word of the normalised text (see normalise.ts for what a word is), or
// several words in a row for a term with spaces ("kill yourself"): "ass" is caught in "a$$" and
// "a s s" but not in "class", "assassin" or "Sussex". A '*' at a term's start or end lets the match
// begin or end inside a word and then covers that whole word: "fuck*" catches "fucking",
// "*fuck*" catches "motherfucker", at the price of the Scunthorpe problem for that term.
import { Trie, TrieBuilder } from './automaton';
import { InvalidTermError, TooManyTermsError } from './errors';
import { maskText } from './mask';
import { type RawMatch, selectMatches, type WordMatch } from './matches';
import { type NormalisedText, normalise } from './normalise';

/** What a match in this list does to a message: refuse it, or deliver it with the match masked. */
export type FilterAction = 'refuse' | 'mask';

/** Terms per list, unless the caller sets another limit. */
export const MAX_TERMS = 5_000;
/** Characters per term, as given and once normalised. */
export const MAX_TERM_LENGTH = 64;

export interface WordListOptions {
  action: FilterAction;
  /** Default MAX_TERMS. */
  maxTerms?: number;
}

export class WordList {
  constructor(
    readonly action: FilterAction,
    /** Terms given, duplicates included. */
    readonly size: number,
    private readonly anchored: Trie | null,
    private readonly floating: Trie | null,
  ) {}

  /** The terms found in `text`, leftmost first, not overlapping. */
  find(text: string): WordMatch[] {
    if (this.size === 0) return [];
    const normalised = normalise(text);
    const raw: RawMatch[] = [];
    this.collect(normalised, raw);
    return selectMatches(normalised, raw);
  }

  /** `text` with every match masked, whatever this list's action. */
  mask(text: string): string {
    const matches = this.find(text);
    return matches.length ? maskText(text, matches) : text;
  }

  /** Adds this list's matches in an already normalised text (so that a WordFilter normalises once). */
  collect(text: NormalisedText, out: RawMatch[]): void {
    this.anchored?.collect(text, false, out);
    this.floating?.collect(text, true, out);
  }
}

/** Validates and compiles `terms`; throws InvalidTermError or TooManyTermsError and compiles nothing. */
export function compileWordList(terms: readonly string[], options: WordListOptions): WordList {
  const maxTerms = options.maxTerms ?? MAX_TERMS;
  if (terms.length > maxTerms) throw new TooManyTermsError(terms.length, maxTerms);
  const anchored = new TrieBuilder();
  const floating = new TrieBuilder();
  terms.forEach((term, index) => {
    const { symbols, leadingStar, trailingStar } = parseTerm(term, index);
    (leadingStar ? floating : anchored).add(symbols, term, trailingStar);
  });
  return new WordList(options.action, terms.length, anchored.empty ? null : anchored.build(), floating.empty ? null : floating.build());
}

/** A term read exactly as a message would be, so that both meet in the same normalised form. */
function parseTerm(term: unknown, index: number): { symbols: number[]; leadingStar: boolean; trailingStar: boolean } {
  const invalid = (reason: InvalidTermError['reason']) => new InvalidTermError(index, term, reason, MAX_TERM_LENGTH);
  if (typeof term !== 'string') throw invalid('not-a-string');
  let body = term.trim();
  if (body.length > MAX_TERM_LENGTH) throw invalid('too-long');
  const leadingStar = body.startsWith('*');
  if (leadingStar) body = body.slice(1);
  const trailingStar = body.endsWith('*');
  if (trailingStar) body = body.slice(0, -1);
  const normalised = normalise(body);
  if (normalised.length === 0) throw invalid('empty');
  if (body.includes('*')) throw invalid('misplaced-wildcard');
  if (normalised.length > MAX_TERM_LENGTH) throw invalid('too-long');
  return { symbols: Array.from(normalised.cp.subarray(0, normalised.length)), leadingStar, trailingStar };
}
