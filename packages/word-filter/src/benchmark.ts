// What the word filter adds to the send path: ns per chat message (20–200 characters) with no
// list, with a 1,000-term list, and with that list plus a room's. Two kinds of 1,000-term list
// bound a real one: random words, and words made to share their beginnings with the messages'
// words ("hello" → "hellox"), so that every word's walk goes to its end before it fails — a real
// profanity list shares far less with everyday words. measureWordFilter() is there for `pnpm bench`
// to call; benchmark-cli.ts prints it. `pnpm bench --word-list N` runs the whole send path with a
// list of that second kind (sendPathWordList) on messages padded with chatFiller().
import { normalise } from './normalise';
import { WordFilter } from './word-filter';
import { compileWordList } from './word-list';

const VOCABULARY = (
  'hello hi hey thanks thank you lol lmao omg yes no maybe what why how when where who this that ' +
  'is are was were be been have has had do does did will would can could should the a an and or ' +
  'but so if then than too very really just like love great nice cool wow amazing awesome good ' +
  'bad best worst game play played playing stream streamer chat room mod mods ban banned gg wp ' +
  'ez noob pro team win won lose lost round match goal score point points music song dance ' +
  "vibe vibes hype clip clips follow followed sub subs gift gifted emote emotes i'm it's don't " +
  "can't you're we they he she me my your our their again later now today tonight tomorrow " +
  'café naïve jalapeño über señor привет спасибо да нет 🙂 😂 🔥 👍 ❤️ 2024 100 5 !!! ??? ... ' +
  'first second last one two three four five six seven eight nine ten minute minutes hour'
).split(' ');
const BLOCKED = ['fuck', 'shit', 'ass', 'cunt', 'rape', 'cock', 'bitch', 'kill yourself'];
const EVASIONS = ['f.u.c.k', 'sh1t', 'a$$', 'ｆｕｃｋ', 'fuuuck', 'b1tch', 'k1ll yourself', 's h i t'];

export interface WordFilterBenchmark {
  messages: number;
  averageLength: number;
  /** By scenario: median over the rounds of ns per message, elapsed and on the CPU (all of the process's threads). */
  nsPerMessage: Record<string, { wall: number; cpu: number }>;
  /** ms to compile a list, by its size: the median of five lists (the first ones also warm the compiler up). */
  compileMs: Record<string, number>;
}

/**
 * Runs the scenarios in turn, `rounds` times, and keeps each one's median round: on a machine
 * shared with other work, interleaving and the median keep a busy moment from landing on one.
 */
export function measureWordFilter(options: { messages?: number; rounds?: number; roundMs?: number } = {}): WordFilterBenchmark {
  const random = mulberry32(24);
  const count = options.messages ?? 10_000;
  const messages = Array.from({ length: count }, () => message(random));
  const randomWords = compileWordList(terms(random, 1_000, false), { action: 'refuse' });
  const deployment = compileWordList(terms(random, 1_000, true), { action: 'refuse' });
  const room = compileWordList(terms(random, 100, true), { action: 'mask' });
  const scenarios: Record<string, (text: string) => unknown> = {
    'no list': check(new WordFilter([])),
    'normalising only': normalise,
    '1,000 terms: random words': check(new WordFilter([randomWords])),
    "1,000 terms: like the messages' words": check(new WordFilter([deployment])),
    '  the same + a room list of 100': check(new WordFilter([deployment, room])),
  };
  const samples = new Map<string, { wall: number[]; cpu: number[] }>();
  for (const [name, run] of Object.entries(scenarios)) {
    for (const m of messages) run(m);
    samples.set(name, { wall: [], cpu: [] });
  }
  for (let round = 0; round < (options.rounds ?? 9); round++) {
    for (const [name, run] of Object.entries(scenarios)) {
      const { wall, cpu } = timeRound(messages, run, options.roundMs ?? 150);
      samples.get(name)!.wall.push(wall);
      samples.get(name)!.cpu.push(cpu);
    }
  }
  const nsPerMessage: WordFilterBenchmark['nsPerMessage'] = {};
  for (const [name, { wall, cpu }] of samples) nsPerMessage[name] = { wall: median(wall), cpu: median(cpu) };
  const compileMs: Record<string, number> = {};
  for (const size of [1_000, 5_000]) {
    const times = Array.from({ length: 5 }, () => {
      const list = terms(random, size, true);
      const start = process.hrtime.bigint();
      compileWordList(list, { action: 'refuse' });
      return Number(process.hrtime.bigint() - start) / 1e6;
    });
    compileMs[size.toLocaleString('en')] = median(times);
  }
  const averageLength = messages.reduce((sum, m) => sum + m.length, 0) / count;
  return { messages: count, averageLength, nsPerMessage, compileMs };
}

/** Plain ASCII words of the vocabulary (none of one letter), at least `length` characters: the same text on every call. */
export function chatFiller(length: number): string {
  const random = mulberry32(7);
  const words = VOCABULARY.filter((w) => /^[a-z]{2,}$/.test(w));
  let text = pick(random, words);
  while (text.length < length) text += ` ${pick(random, words)}`;
  return text;
}

/**
 * A deployment list of `size` terms like the messages' words, none of which blocks `text` or any
 * beginning of it (a message cut to size): the send path checks such a message to its end, then
 * stores it, so what is measured is the check, never a refusal.
 */
export function sendPathWordList(size: number, text: string): string[] {
  const random = mulberry32(size);
  const list = new Set(terms(random, size, true));
  for (;;) {
    const filter = new WordFilter([compileWordList([...list], { action: 'refuse' })]);
    const blocking = new Set<string>();
    for (let end = 1; end <= text.length; end++) {
      const verdict = filter.check(text.slice(0, end));
      if (verdict.action !== 'pass') for (const m of verdict.matches) blocking.add(m.term);
    }
    if (blocking.size === 0) return [...list];
    for (const term of blocking) list.delete(term);
    while (list.size < size) list.add(randomWord(random, 3, 10));
  }
}

function check(filter: WordFilter): (text: string) => unknown {
  return (text) => filter.check(text);
}

/** Runs every message through `run`, again and again until `ms` have passed: ns per message. */
function timeRound(messages: string[], run: (text: string) => unknown, ms: number): { wall: number; cpu: number } {
  const cpuBefore = process.cpuUsage();
  const start = process.hrtime.bigint();
  let calls = 0;
  let elapsed = 0n;
  while (elapsed < BigInt(ms) * 1_000_000n) {
    for (const m of messages) run(m);
    calls += messages.length;
    elapsed = process.hrtime.bigint() - start;
  }
  const cpu = process.cpuUsage(cpuBefore);
  return { wall: Number(elapsed) / calls, cpu: ((cpu.user + cpu.system) * 1_000) / calls };
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** A chat message of 20–200 characters; one in fifty holds a disguised blocked word. */
function message(random: () => number): string {
  const length = 20 + Math.floor(random() * 181);
  let text = random() < 0.02 ? pick(random, EVASIONS) : '';
  while (text.length < length) text += (text ? ' ' : '') + pick(random, VOCABULARY);
  // Flat, as the text of a decoded frame is (a string built with += is a rope until first read).
  return Buffer.from(text).toString();
}

/** The blocked words, multi-word and '*' terms, random words; `likeMessages`: first the vocabulary's words with a letter more. */
function terms(random: () => number, size: number, likeMessages: boolean): string[] {
  const out = new Set(BLOCKED);
  const word = (min: number, max: number) => randomWord(random, min, max);
  for (const w of likeMessages ? VOCABULARY : []) if (/^\p{L}+$/u.test(w) && out.size < size * 0.3) out.add(w + randomLetter(random));
  for (let i = 0; i < size * 0.02; i++) out.add(`${pick(random, VOCABULARY)} ${word(3, 8)}`);
  for (let i = 0; i < size * 0.02; i++) out.add(random() < 0.5 ? `*${word(4, 8)}` : `${word(4, 8)}*`);
  while (out.size < size) out.add(word(3, 10));
  return [...out];
}

function randomLetter(random: () => number): string {
  return String.fromCharCode(97 + Math.floor(random() * 26));
}

/** min–max random lowercase ASCII letters. */
function randomWord(random: () => number, min: number, max: number): string {
  return Array.from({ length: min + Math.floor(random() * (max - min + 1)) }, () => randomLetter(random)).join('');
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

/** A small seeded generator, so that every run measures the same messages. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
