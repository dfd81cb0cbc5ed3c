// What the message worker relies on per message: the deployment's list and a room's list act
// together, each with its own action, and one compiled deployment list serves every room.
import { compileWordList } from './word-list';
import { WordFilter } from './word-filter';

const deployment = compileWordList(['kill yourself', 'n1gger'], { action: 'refuse' });
const roomA = compileWordList(['spoiler', 'shit'], { action: 'mask' });
const roomB = compileWordList(['shit'], { action: 'refuse' });

test('a message matching no list passes unchanged', () => {
  expect(new WordFilter([deployment, roomA]).check('hello there')).toEqual({ action: 'pass' });
  expect(new WordFilter([]).check('kill yourself')).toEqual({ action: 'pass' });
  expect(new WordFilter([compileWordList([], { action: 'refuse' })]).check('kill yourself')).toEqual({ action: 'pass' });
});

test('a match in a refusing list refuses the message, even when a masking list matches first', () => {
  const verdict = new WordFilter([deployment, roomA]).check('spoiler: k i l l  yourself');
  expect(verdict).toEqual({ action: 'refuse', matches: [{ start: 9, end: 26, term: 'kill yourself' }] });
});

test("a masking list's matches are masked in the text and reported", () => {
  const text = 'SPOILER: the butler did it, sh1t!';
  expect(new WordFilter([deployment, roomA]).check(text)).toEqual({
    action: 'mask',
    text: '*******: the butler did it, ****!',
    matches: [
      { start: 0, end: 7, term: 'spoiler' },
      { start: 28, end: 32, term: 'shit' },
    ],
  });
});

test('rooms share the compiled deployment list and each applies its own list with its own action', () => {
  const inA = new WordFilter([deployment, roomA]);
  const inB = new WordFilter([deployment, roomB]);
  expect(inA.check('oh shit')).toEqual({ action: 'mask', text: 'oh ****', matches: [{ start: 3, end: 7, term: 'shit' }] });
  expect(inB.check('oh shit')).toEqual({ action: 'refuse', matches: [{ start: 3, end: 7, term: 'shit' }] });
  expect(inA.check('spoiler')).toMatchObject({ action: 'mask' });
  expect(inB.check('spoiler')).toEqual({ action: 'pass' });
  for (const filter of [inA, inB]) expect(filter.check('kill    yourself')).toMatchObject({ action: 'refuse' });
});

test('several masking lists mask in one pass, a span two lists match only once', () => {
  const other = compileWordList(['butler', 'spoiler'], { action: 'mask' });
  expect(new WordFilter([roomA, other]).check('spoiler: the butler')).toEqual({
    action: 'mask',
    text: '*******: the ******',
    matches: [
      { start: 0, end: 7, term: 'spoiler' },
      { start: 13, end: 19, term: 'butler' },
    ],
  });
});
