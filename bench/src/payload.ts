// The text every chatter sends, identical for all three servers: "<scenario>:<sent µs>:<chatter>:<n>:"
// and chat words up to a fixed size. Scenario ids keep a late delivery from a previous scenario
// out of the current one's figures; the send time, on the clock every process on this machine
// shares, gives end-to-end latency without a lookup per delivery. The words give ours's word
// filter (`--word-list`) a message to read, as chat is; ':' ends a word there (and '|', read as a
// letter, would not), so the head is numbers, which no list of words blocks.
import { chatFiller, sendPathWordList } from '@lomi/word-filter';

export const MESSAGE_BYTES = 100;
const COLON = 0x3a;
const ZERO = 0x30;
/** ASCII, so the text's bytes are its characters. */
const FILLER = chatFiller(MESSAGE_BYTES);

/** Microseconds on a clock comparable across processes on one machine. */
export function nowUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

export function messageText(scenario: number, chatter: number, n: number, sentAtUs: number): string {
  const head = `${scenario}:${sentAtUs}:${chatter}:${n}:`;
  return head + FILLER.slice(0, MESSAGE_BYTES - head.length);
}

/** Ours's deployment word list for `--word-list size`: one term a line, none blocking a bench message. */
export function wordListFile(size: number): string {
  return `${sendPathWordList(size, FILLER).join('\n')}\n`;
}

/** The head of the last text readHead accepted: its send time, sender and number (one object, reused: no allocation per delivery). */
export const HEAD = { sentAtUs: 0, sender: 0, n: 0 };

let pos = 0;
/** The decimal number at `pos` up to the next colon; leaves `pos` after the colon. */
function field(buf: Uint8Array, end: number): number {
  let value = 0;
  while (pos < end && buf[pos] !== COLON) value = value * 10 + buf[pos++]! - ZERO;
  pos += 1;
  return value;
}

/**
 * Reads the head of the bench text at `start` of `buf` into HEAD without allocating (it runs for
 * every delivery). False when the text belongs to another scenario or is not a bench message.
 */
export function readHead(buf: Uint8Array, start: number, end: number, scenario: number): boolean {
  pos = start;
  if (field(buf, end) !== scenario) return false;
  HEAD.sentAtUs = field(buf, end);
  HEAD.sender = field(buf, end);
  HEAD.n = field(buf, end);
  return pos <= end;
}
