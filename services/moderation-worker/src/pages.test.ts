// The moderation log and report lists page newest first by id; the cursor is the last id shown.
import { ErrorCode } from '@lomi/protocol';
import { page, pageRequest } from './pages';

const badRequest = (message: string) => expect.objectContaining({ code: ErrorCode.ERROR_CODE_BAD_REQUEST, message });

describe('pageRequest', () => {
  it('defaults to 50 rows from the newest', () => {
    expect(pageRequest({})).toEqual({ limit: 50 });
  });

  it('reads the limit and a cursor it gave', () => {
    expect(pageRequest({ limit: '200', cursor: '123' })).toEqual({ limit: 200, beforeId: 123 });
    expect(pageRequest({ limit: '1', cursor: '9007199254740991' })).toEqual({ limit: 1, beforeId: 9007199254740991 });
  });

  it.each(['0', '201', '1.5', 'ten', '-1'])('refuses limit %p', (limit) => {
    expect(() => pageRequest({ limit })).toThrow(badRequest('limit must be 1–200'));
  });

  it.each(['0', '012', '-5', '1e3', 'abc', '12345678901234567'])('refuses cursor %p', (cursor) => {
    expect(() => pageRequest({ cursor })).toThrow(badRequest('cursor is not one this API gave'));
  });
});

describe('page', () => {
  const rows = [{ id: 9 }, { id: 7 }, { id: 4 }];

  it('shows limit rows and points the next page below the last one shown', () => {
    expect(page(rows, { limit: 2 })).toEqual({ rows: [{ id: 9 }, { id: 7 }], nextCursor: '7' });
    expect(pageRequest({ limit: '2', cursor: page(rows, { limit: 2 }).nextCursor })).toEqual({ limit: 2, beforeId: 7 });
  });

  it('ends the paging when the read found no row past the limit', () => {
    expect(page(rows, { limit: 3 })).toEqual({ rows, nextCursor: '' });
    expect(page([], { limit: 3 })).toEqual({ rows: [], nextCursor: '' });
  });
});
