// The conversation list's cursor is opaque to clients but goes into a query: it round-trips
// exactly, and anything a client made up is refused BAD_REQUEST rather than failing the page.
import { ErrorCode } from '@lomi/protocol';
import { decodeCursor, encodeCursor } from './conversation-cursor';

const encoded = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('conversation cursor', () => {
  it('round-trips the activity time in microseconds and the id', () => {
    const cursor: [string, string] = ['1733390000123456', 'conv-1'];
    const text = encodeCursor(cursor);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(text)).toEqual(cursor);
  });

  it('reads an empty cursor as the first page', () => {
    expect(decodeCursor('')).toBeUndefined();
  });

  it.each([
    ['not base64 JSON', 'not a cursor'],
    ['an object', encoded({ at: '1', id: 'x' })],
    ['one element', encoded(['1'])],
    ['three elements', encoded(['1', 'x', 'y'])],
    ['a time that is not digits', encoded(['1e5', 'x'])],
    ['a time of 18 digits', encoded(['123456789012345678', 'x'])],
    ['a numeric id', encoded(['1', 7])],
    ['an id with U+0000', encoded(['1', 'a\u0000b'])],
    ['an id with a lone surrogate', encoded(['1', 'a\ud800'])],
  ])('refuses %s', (_, text) => {
    expect(() => decodeCursor(text)).toThrow(expect.objectContaining({ code: ErrorCode.ERROR_CODE_BAD_REQUEST, message: 'invalid cursor' }));
  });
});
