// Joins and leaves are announced one by one while a room is small and its allowance of single
// messages lasts; past that they gather into one digest per kind per interval.
import { MemoryNamespace } from '@lomi/hot-state';
import { RoomKind, type Room } from '@lomi/protocol';
import { createMemoryJoinLeaveDigest } from './join-leave-digest-memory';

const room: Room = { kind: RoomKind.ROOM_KIND_LIVE, id: 'stream-1' };
const INTERVAL = 5000;

let clock: number;
let memory: MemoryNamespace;

function setUp() {
  clock = 1_700_000_000_000;
  memory = new MemoryNamespace('test', 'incarnation-1', () => clock);
  return createMemoryJoinLeaveDigest(memory, { singlesPerInterval: 3, intervalMs: INTERVAL });
}

afterEach(() => memory.clear());

describe('memory join/leave digest', () => {
  it("announces singly within the interval's allowance, then gathers the rest into a digest", async () => {
    const digests = setUp();
    expect(await digests.announce(room, 'joined', 'a', 2, true)).toBe(true);
    expect(await digests.announce(room, 'joined', 'b', 2, true)).toBe(false);
    const opened = clock;
    expect(await digests.announce(room, 'joined', 'c', 1, true)).toBe(false);
    expect(await digests.take(room)).toEqual({ due: [], gathering: true });
    clock += INTERVAL;
    expect(await digests.take(room)).toEqual({ due: [{ kind: 'joined', firstUser: 'b', count: 3, since: opened }], gathering: false });
    expect(await digests.take(room)).toEqual({ due: [], gathering: false });
  });

  it('sends everything to the digest while one gathers, of either kind', async () => {
    const digests = setUp();
    await digests.announce(room, 'joined', 'a', 1, false);
    expect(await digests.announce(room, 'left', 'b', 1, true)).toBe(false);
    clock += INTERVAL;
    const { due } = await digests.take(room);
    expect(due.map((d) => [d.kind, d.firstUser, d.count])).toEqual([
      ['joined', 'a', 1],
      ['left', 'b', 1],
    ]);
  });

  it('never announces a change of a room that is not small one by one', async () => {
    const digests = setUp();
    expect(await digests.announce(room, 'left', 'a', 1, false)).toBe(false);
  });

  it('gives a new interval a new allowance', async () => {
    const digests = setUp();
    expect(await digests.announce(room, 'joined', 'a', 3, true)).toBe(true);
    clock += INTERVAL - 1;
    expect(await digests.announce(room, 'joined', 'b', 1, true)).toBe(false);
    clock += INTERVAL;
    await digests.take(room);
    expect(await digests.announce(room, 'joined', 'c', 3, true)).toBe(true);
  });

  it('digests a single change larger than the whole allowance', async () => {
    const digests = setUp();
    expect(await digests.announce(room, 'joined', 'a', 4, true)).toBe(false);
  });
});
