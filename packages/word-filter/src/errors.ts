// Block lists are set by moderators over the wire, so a bad one is refused whole with an error
// that says which term is wrong and why (the moderation worker turns it into a bad request).

export class WordListError extends Error {
  override name = 'WordListError';
}

export type InvalidTermReason = 'not-a-string' | 'empty' | 'too-long' | 'misplaced-wildcard';

export class InvalidTermError extends WordListError {
  override name = 'InvalidTermError';

  constructor(
    /** The term's position in the list given, from 0. */
    readonly index: number,
    readonly term: unknown,
    readonly reason: InvalidTermReason,
    maxLength: number,
  ) {
    super(`term ${index} ${quote(term)} ${explain(reason, maxLength)}`);
  }
}

export class TooManyTermsError extends WordListError {
  override name = 'TooManyTermsError';

  constructor(
    readonly count: number,
    readonly max: number,
  ) {
    super(`a word list holds at most ${max} terms, got ${count}`);
  }
}

function explain(reason: InvalidTermReason, maxLength: number): string {
  switch (reason) {
    case 'not-a-string':
      return 'is not a string';
    case 'empty':
      return 'has no letters or digits';
    case 'too-long':
      return `is longer than ${maxLength} characters`;
    case 'misplaced-wildcard':
      return "has a '*' inside: '*' may only begin or end a term";
  }
}

function quote(term: unknown): string {
  if (typeof term !== 'string') return `(${typeof term})`;
  return JSON.stringify(term.length > 40 ? `${term.slice(0, 40)}…` : term);
}
