import { ErrorCode } from '@lomi/protocol';
import { storableId, storableText, storableUserId, unstorable, USER_ID_MAX, userIdProblem } from './text';

const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return { code: (err as { code: unknown }).code, message: (err as Error).message };
  }
  throw new Error('not refused');
};

test('free text keeps tabs and line breaks, and old line breaks become "\\n"', () => {
  expect(storableText('content', 'a\tb\r\nc\rd\ne')).toBe('a\tb\nc\nd\ne');
});

test('text Postgres would refuse is refused up front, naming the field and the character', () => {
  expect(refusal(() => storableText('content', 'a\u0000b'))).toEqual({
    code: ErrorCode.ERROR_CODE_BAD_REQUEST,
    message: 'content contains a control character (U+0000)',
  });
  expect(refusal(() => storableText('content', 'x\ud800'))).toEqual({
    code: ErrorCode.ERROR_CODE_BAD_REQUEST,
    message: 'content is not well-formed Unicode (a lone surrogate)',
  });
  expect(unstorable('a\u009fb', 'text')).toBe('contains a control character (U+009F)');
});

test('ids and names allow no control character at all, not even a tab', () => {
  expect(storableId('cursor', 'abc-123')).toBe('abc-123');
  expect(refusal(() => storableId('cursor', 'a\tb')).message).toBe('cursor contains a control character (U+0009)');
});

test('user ids are 1 to USER_ID_MAX storable characters', () => {
  expect(storableUserId('user_id', 'émilie')).toBe('émilie');
  expect(userIdProblem('')).toBe(`must be 1–${USER_ID_MAX} characters`);
  expect(userIdProblem('x'.repeat(USER_ID_MAX + 1))).toBe(`must be 1–${USER_ID_MAX} characters`);
  expect(userIdProblem('x'.repeat(USER_ID_MAX))).toBeUndefined();
  expect(refusal(() => storableUserId('actor_id', 'a\nb')).message).toBe('actor_id contains a control character (U+000A)');
});
