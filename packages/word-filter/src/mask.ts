// Masking rewrites only the matched spans of the original text, one '*' per drawn character
// (an emoji or an accented letter is one, a zero-width space or a combining accent none; spaces
// stay, so "kill yourself" keeps its shape), and leaves the rest of the message exactly as sent.
import { isInvisible, isWhitespace } from './fold';
import type { WordMatch } from './matches';

/** `matches` in order and not overlapping, as selectMatches gives them. */
export function maskText(text: string, matches: readonly WordMatch[]): string {
  let out = '';
  let pos = 0;
  for (const { start, end } of matches) {
    out += text.slice(pos, start);
    for (let i = start; i < end;) {
      const cp = text.codePointAt(i)!;
      const width = cp > 0xffff ? 2 : 1;
      if (isWhitespace(cp)) out += text.slice(i, i + width);
      else if (!isInvisible(cp)) out += '*';
      i += width;
    }
    pos = end;
  }
  return out + text.slice(pos);
}
