// What a room relies on from one block list: a blocked word is caught however it is disguised, and
// masked exactly where the sender wrote it; a text that merely contains a blocked word inside an
// innocent one (the Scunthorpe problem) is left as it was.
import { compileWordList } from './word-list';

const BLOCKED = ['fuck', 'shit', 'ass', 'cunt', 'rape', 'cock', 'sex', 'bitch', 'dick', 'kill yourself', 'хуй', 'scheisse', 'mierda'];
const list = compileWordList(BLOCKED, { action: 'mask' });

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** What was found, as [the text the sender wrote, the term]. */
function found(text: string, words = list): [string, string][] {
  return words.find(text).map((m) => [text.slice(m.start, m.end), m.term]);
}

// [message, the span that must be caught, the term it is]
const EVASIONS: [string, string, string][] = [
  ['FUCK this', 'FUCK', 'fuck'],
  ['what the fück', 'fück', 'fuck'],
  ['what the fu\u0308ck', 'fu\u0308ck', 'fuck'], // combining diaeresis
  ['ｆｕｃｋ you', 'ｆｕｃｋ', 'fuck'], // fullwidth
  ['𝐟𝐮𝐜𝐤', '𝐟𝐮𝐜𝐤', 'fuck'], // mathematical bold
  ['ⓕⓤⓒⓚ', 'ⓕⓤⓒⓚ', 'fuck'], // circled
  ['ꜰᴜᴄᴋ off', 'ꜰᴜᴄᴋ', 'fuck'], // small capitals
  ['fu\u0441k', 'fu\u0441k', 'fuck'], // Cyrillic es
  ['\u0455\u04bb\u0456t happens', '\u0455\u04bb\u0456t', 'shit'], // Cyrillic dze, shha, i
  ['you \u03b1\u0455\u0455', '\u03b1\u0455\u0455', 'ass'], // Greek alpha, Cyrillic dze
  ['f\u200buck', 'f\u200buck', 'fuck'], // zero-width space
  ['s\u200dh\u200ci\u2060t', 's\u200dh\u200ci\u2060t', 'shit'], // zero-width joiner, non-joiner, word joiner
  ['c\u00adu\u00adn\u00adt', 'c\u00adu\u00adn\u00adt', 'cunt'], // soft hyphens
  ['fuuuuuck', 'fuuuuuck', 'fuck'],
  ['oh shiiiiiit', 'shiiiiiit', 'shit'],
  ['f.u.c.k', 'f.u.c.k', 'fuck'],
  ['f u c k you', 'f u c k', 'fuck'],
  ['f_u-c*k', 'f_u-c*k', 'fuck'],
  ['s h i t', 's h i t', 'shit'],
  ['f\nu\nc\nk', 'f\nu\nc\nk', 'fuck'],
  ['f🙂u🙂c🙂k', 'f🙂u🙂c🙂k', 'fuck'],
  ['sh1t', 'sh1t', 'shit'],
  ['$h!t', '$h!t', 'shit'],
  ['you a$$', 'a$$', 'ass'],
  ['@ss', '@ss', 'ass'],
  ['c0ck', 'c0ck', 'cock'],
  ['r4pe', 'r4pe', 'rape'],
  ['5ex', '5ex', 'sex'],
  ['b1tch', 'b1tch', 'bitch'],
  ['SHlT', 'SHlT', 'shit'], // a small L for a capital i
  ['you ass!', 'ass', 'ass'],
  ['(shit)', 'shit', 'shit'],
  ["this shit's bad", 'shit', 'shit'],
  ["don't a s s", 'a s s', 'ass'],
  ['ſhit', 'ſhit', 'shit'], // long s
  ['k1ll   y0urself', 'k1ll   y0urself', 'kill yourself'],
  ['Scheiße!', 'Scheiße', 'scheisse'],
  ['¡Qué MÍERDA!', 'MÍERDA', 'mierda'],
  ['ХУЙ', 'ХУЙ', 'хуй'],
  ['xуй', 'xуй', 'хуй'], // a Latin x with the Cyrillic letters
];

const INNOCENT = [
  'class',
  'assassin',
  'Scunthorpe',
  'grape',
  'therapist',
  'cocktail',
  'Sussex',
  'shitake mushrooms',
  'shiitake',
  'Essex and Middlesex',
  'unisex',
  'sextant',
  'compass',
  'bass guitar',
  'passage',
  'harassment',
  'assessment',
  'a s s e s s m e n t',
  'drape',
  'skyscraper',
  'cockpit',
  'peacock',
  'a cocked hat',
  'Dickens',
  'Matsushita',
  'as you like',
  'café au lait',
  'São Paulo',
  'naïve façade',
  'Ærøskøbing',
  'Привет, как дела?',
  'класс',
  'Αθήνα',
  'I scored 455 points',
  'a5 paper',
  '$5 coffee',
  'a s a p',
  'U S A',
  "don't ask",
  'hello@example.com',
  'Shh! It is late',
];

test.each(EVASIONS)('%j is caught: %j is %j', (text, span, term) => {
  expect(found(text)).toEqual([[span, term]]);
});

test.each(INNOCENT)('%j is left alone', (text) => {
  expect(list.find(text)).toEqual([]);
  expect(list.mask(text)).toBe(text);
});

test('masking rewrites only the matches, one star per drawn character, and keeps spaces', () => {
  expect(list.mask('You are an a$$, f.u.c.k off 🙂')).toBe('You are an ***, ******* off 🙂');
  expect(list.mask('𝐟𝐮𝐜𝐤 yes')).toBe('**** yes');
  expect(list.mask('f\u200bu\u0308ck!')).toBe('****!');
  expect(list.mask('>> k1ll   y0urself <<')).toBe('>> ****   ******** <<');
});

test('a doubled letter in a term needs as many in the text; more are absorbed', () => {
  expect(found('as')).toEqual([]);
  expect(found('asssss')).toEqual([['asssss', 'ass']]);
  expect(found('aaass')).toEqual([['aaass', 'ass']]);
});

test('1 and | are read as i or l, a capital I as an l too', () => {
  const words = compileWordList(['kill', 'slut'], { action: 'refuse' });
  expect(found('k1ll ki|| KIII s1ut', words)).toEqual([
    ['k1ll', 'kill'],
    ['ki||', 'kill'],
    ['KIII', 'kill'],
    ['s1ut', 'slut'],
  ]);
  expect(found('sail mill Ill', words)).toEqual([]);
});

test('a word of digits is a number, not leetspeak, and number terms match numbers', () => {
  const words = compileWordList(['ass', 'sex', '1488'], { action: 'refuse' });
  expect(found('455 533 53x', words)).toEqual([['53x', 'sex']]);
  expect(found('1488 and 1 4 8 8 but not 21488 or 14880', words)).toEqual([
    ['1488', '1488'],
    ['1 4 8 8', '1488'],
  ]);
});

test("a '*' lets a term begin or end inside a word and covers that word", () => {
  const words = compileWordList(['fuck*', '*shit', '*cunt*'], { action: 'mask' });
  expect(found('fuck fucking FUCKERS!', words)).toEqual([
    ['fuck', 'fuck*'],
    ['fucking', 'fuck*'],
    ['FUCKERS', 'fuck*'],
  ]);
  expect(found('bullshit shitty', words)).toEqual([['bullshit', '*shit']]);
  expect(found('$hit bull$h1t', words)).toEqual([
    ['$hit', '*shit'],
    ['bull$h1t', '*shit'],
  ]);
  // The price of '*cunt*': Scunthorpe is caught again.
  expect(found('Scunthorpe', words)).toEqual([['Scunthorpe', '*cunt*']]);
  expect(found('fucking', compileWordList(['fuck'], { action: 'mask' }))).toEqual([]);
});

test('overlapping terms give one match, the longest from the leftmost start', () => {
  const words = compileWordList(['fuck', 'fuck you', 'you'], { action: 'mask' });
  expect(found('well fuck you too', words)).toEqual([['fuck you', 'fuck you']]);
  expect(words.mask('well fuck you too')).toBe('well **** *** too');
});

test('an empty list finds nothing and masks nothing', () => {
  const empty = compileWordList([], { action: 'mask' });
  expect(empty.find('fuck')).toEqual([]);
  expect(empty.mask('fuck')).toBe('fuck');
});

test('in any mix of disguises, each match is what the sender wrote and the rest is left byte for byte', () => {
  // Seeded, so a failure names a text that can be replayed.
  let seed = 7;
  const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const pieces = [...EVASIONS.map(([, span]) => span), ...INNOCENT, '🙂', '👨‍👩‍👧', 'x\u0301', '\u200b', '!!', '1 2', "'", '-'];
  for (let round = 0; round < 500; round++) {
    const text = Array.from({ length: 1 + Math.floor(random() * 8) }, () => pick(pieces)).join(pick([' ', ', ', '\n', ' 🙂 ']));
    // The masked text must be the original with each match, and nothing else, turned into stars (and its spaces).
    let shape = '^';
    let pos = 0;
    for (const { start, end, term } of list.find(text)) {
      const span = text.slice(start, end);
      expect({ text, alone: found(span) }).toEqual({ text, alone: [[span, term]] });
      shape += `${escape(text.slice(pos, start))}[*\\s]+`;
      pos = end;
    }
    expect(list.mask(text)).toMatch(new RegExp(`${shape}${escape(text.slice(pos))}$`, 'u'));
  }
});

test('a very long message is matched like a short one', () => {
  const long = `${'hello there '.repeat(5_000)}f u c k ${'a'.repeat(20_000)} shiiiiit`;
  expect(found(long)).toEqual([
    ['f u c k', 'fuck'],
    ['shiiiiit', 'shit'],
  ]);
  expect(found('sh1t')).toEqual([['sh1t', 'shit']]);
});
