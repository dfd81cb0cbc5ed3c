// A heartbeat of thousands of viewers is split over script runs; together they must make the
// change one run would have made, publishing the count once, from the last run.
import { RoomKind } from '@lomi/protocol';
import { mergeChanges, scriptParts, USERS_PER_SCRIPT } from './presence-parts';
import type { PresenceChange } from './room-presence';

const users = (n: number) => Array.from({ length: n }, (_, i) => `u${i}`);

describe('scriptParts', () => {
  it('runs a small report, and an empty one (sweep, end), in one run that may push', () => {
    expect(scriptParts(['a', 'b'])).toEqual([{ userIds: ['a', 'b'], mayPush: true }]);
    expect(scriptParts([])).toEqual([{ userIds: [], mayPush: true }]);
    expect(scriptParts(users(USERS_PER_SCRIPT))).toHaveLength(1);
  });

  it('splits a large report in order, every user once, and only the last run may push', () => {
    const all = users(2 * USERS_PER_SCRIPT + 1);
    const parts = scriptParts(all);
    expect(parts.map((p) => p.userIds.length)).toEqual([USERS_PER_SCRIPT, USERS_PER_SCRIPT, 1]);
    expect(parts.flatMap((p) => p.userIds)).toEqual(all);
    expect(parts.map((p) => p.mayPush)).toEqual([false, false, true]);
  });
});

describe('mergeChanges', () => {
  const room = { kind: RoomKind.ROOM_KIND_LIVE, id: 'r' };
  const change = (count: number, peak: number, arrivals: string[], departures: string[], push = false): PresenceChange => ({
    room,
    count,
    peak,
    everCount: count,
    push,
    arrivals: arrivals.map((userId) => ({ userId, since: 1 })),
    departures: departures.map((userId) => ({ userId, since: 1 })),
  });

  it("takes the last run's count and push, the highest peak, and every arrival and departure in order", () => {
    const merged = mergeChanges([change(5, 9, ['a'], ['x']), change(3, 7, ['b', 'c'], [], false), change(4, 8, [], ['y'], true)]);
    expect(merged).toMatchObject({ count: 4, everCount: 4, push: true, peak: 9 });
    expect(merged.arrivals.map((s) => s.userId)).toEqual(['a', 'b', 'c']);
    expect(merged.departures.map((s) => s.userId)).toEqual(['x', 'y']);
  });
});
