// One batch of session rows becomes one upsert, which may not touch a row twice: a session that
// began and ended within the batch must arrive as its closed row alone.
import { uniqueSessions, type SessionRow } from './viewing-sessions';

const row = (user: string, joinedAt: number, leftAt?: number, stream = 's1'): SessionRow => ({
  stream_id: stream,
  user_id: user,
  joined_at: new Date(joinedAt),
  left_at: leftAt === undefined ? null : new Date(leftAt),
});

describe('uniqueSessions', () => {
  it('keeps the closed row of a session that opened and closed in the batch, in either order', () => {
    expect(uniqueSessions([row('a', 1), row('a', 1, 9)])).toEqual([row('a', 1, 9)]);
    expect(uniqueSessions([row('a', 1, 9), row('a', 1)])).toEqual([row('a', 1, 9)]);
  });

  it('keeps sessions apart by stream, user and start', () => {
    const rows = [row('a', 1), row('a', 2), row('b', 1), row('a', 1, undefined, 's2')];
    expect(uniqueSessions(rows)).toEqual(rows);
  });

  it('keeps the first close of a session given twice', () => {
    expect(uniqueSessions([row('a', 1, 5), row('a', 1, 7)])).toEqual([row('a', 1, 5)]);
  });
});
