// Typing indicators as the embedded system keeps them: throttled "typing" pushes, a "stopped"
// only for someone who was typing, expiry of typists nobody renews, and the connection each
// types from so a closing socket ends it.
import { MemoryNamespace } from '@lomi/hot-state';
import { RoomKind, type Room } from '@lomi/protocol';
import { createMemoryTyping } from './typing-memory';

const r1: Room = { kind: RoomKind.ROOM_KIND_PRIVATE, id: 'c1' };
const r2: Room = { kind: RoomKind.ROOM_KIND_PRIVATE, id: 'c2' };

let clock: number;
let memory: MemoryNamespace;

function setUp() {
  clock = 1_700_000_000_000;
  memory = new MemoryNamespace('test', 'incarnation-1', () => clock);
  return createMemoryTyping(memory, { timeoutMs: 5000, pushIntervalMs: 1000 });
}

afterEach(() => memory.clear());

describe('memory typing', () => {
  it('pushes "typing" at most once per push interval', async () => {
    const typing = setUp();
    expect(await typing.start(r1, 'alice', 'k1')).toEqual({ push: 'typing', expired: [], typing: 1 });
    clock += 999;
    expect((await typing.start(r1, 'alice', 'k1')).push).toBeUndefined();
    clock += 1;
    expect((await typing.start(r1, 'alice', 'k1')).push).toBe('typing');
  });

  it('pushes "stopped" only for a user who was typing', async () => {
    const typing = setUp();
    await typing.start(r1, 'alice', 'k1');
    expect(await typing.stop(r1, 'alice')).toEqual({ push: 'stopped', expired: [], typing: 0 });
    expect((await typing.stop(r1, 'alice')).push).toBeUndefined();
  });

  it('expires typists nobody renews, in any operation on the room', async () => {
    const typing = setUp();
    await typing.start(r1, 'alice', 'k1');
    clock += 2000;
    await typing.start(r1, 'bob', 'k2');
    clock += 3000;
    expect(await typing.sweep(r1)).toEqual({ push: undefined, expired: ['alice'], typing: 1 });
    clock += 2000;
    expect(await typing.start(r1, 'carol', 'k3')).toMatchObject({ expired: ['bob'], typing: 1 });
  });

  it('does not report a typist renewing at the moment of expiry as stopped', async () => {
    const typing = setUp();
    await typing.start(r1, 'alice', 'k1');
    clock += 5000;
    expect(await typing.start(r1, 'alice', 'k1')).toEqual({ push: 'typing', expired: [], typing: 1 });
  });

  it('knows which rooms a connection types in, until the typing ends', async () => {
    const typing = setUp();
    await typing.start(r1, 'alice', 'k1');
    await typing.start(r2, 'alice', 'k2');
    expect(
      await typing.typingFrom([
        { userId: 'alice', connectionId: 'k1' },
        { userId: 'alice', connectionId: 'k3' },
      ]),
    ).toEqual([[r1], []]);
    await typing.stop(r1, 'alice');
    expect(await typing.typingFrom([{ userId: 'alice', connectionId: 'k1' }])).toEqual([[]]);
    clock += 5000;
    await typing.sweep(r2);
    expect(await typing.typingFrom([{ userId: 'alice', connectionId: 'k2' }])).toEqual([[]]);
  });
});
