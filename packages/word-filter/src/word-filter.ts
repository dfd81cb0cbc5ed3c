// What the message worker asks per message: the deployment's list and the room's, each compiled
// once and combined here by reference (a room's filter never recompiles the deployment list). The
// text is normalised once for all lists; a refusing list wins over a masking one.
import { maskText } from './mask';
import { type RawMatch, selectMatches, type WordMatch } from './matches';
import { normalise } from './normalise';
import type { WordList } from './word-list';

export type FilterVerdict =
  | { readonly action: 'pass' }
  | { readonly action: 'refuse'; readonly matches: readonly WordMatch[] }
  /** `text` is the message with every masking list's matches masked. */
  | { readonly action: 'mask'; readonly text: string; readonly matches: readonly WordMatch[] };

const PASS: FilterVerdict = Object.freeze({ action: 'pass' });

export class WordFilter {
  private readonly refusing: readonly WordList[];
  private readonly masking: readonly WordList[];

  constructor(lists: readonly WordList[]) {
    this.refusing = lists.filter((list) => list.size > 0 && list.action === 'refuse');
    this.masking = lists.filter((list) => list.size > 0 && list.action === 'mask');
  }

  check(text: string): FilterVerdict {
    if (this.refusing.length === 0 && this.masking.length === 0) return PASS;
    const normalised = normalise(text);
    const raw: RawMatch[] = [];
    for (const list of this.refusing) list.collect(normalised, raw);
    if (raw.length) return { action: 'refuse', matches: selectMatches(normalised, raw) };
    for (const list of this.masking) list.collect(normalised, raw);
    if (raw.length === 0) return PASS;
    const matches = selectMatches(normalised, raw);
    return { action: 'mask', text: maskText(text, matches), matches };
  }
}
