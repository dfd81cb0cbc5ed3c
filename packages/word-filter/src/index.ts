export { compileWordList, MAX_TERM_LENGTH, MAX_TERMS, WordList, type FilterAction, type WordListOptions } from './word-list';
export { WordFilter, type FilterVerdict } from './word-filter';
export type { WordMatch } from './matches';
export { InvalidTermError, TooManyTermsError, WordListError, type InvalidTermReason } from './errors';
export { chatFiller, sendPathWordList } from './benchmark';
