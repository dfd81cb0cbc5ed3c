// Joins and leaves become SYSTEM messages one per viewer while the room is small, a digest
// otherwise, and nothing in a room too big for them; each with an id that makes a retry store it once.
import type { Bus } from '@lomi/bus';
import type { Digest, JoinLeaveDigestStore, PresenceChange } from '@lomi/presence';
import { internal, RoomKind, type Room } from '@lomi/protocol';
import type { PresenceContext } from './context';
import { announcement, createJoinLeaveMessages } from './join-leave-messages';

describe('announcement', () => {
  it('names the first user and counts the others', () => {
    expect(announcement('joined', 'alice', 1)).toBe('alice joined');
    expect(announcement('left', 'alice', 2)).toBe('alice and 1 other left');
    expect(announcement('joined', 'alice', 38)).toBe('alice and 37 others joined');
  });
});

const room: Room = { kind: RoomKind.ROOM_KIND_LIVE, id: 'stream-1' };
const config = { JOIN_LEAVE_MESSAGES: true, JOIN_AGGREGATE_ABOVE: 3, JOIN_MESSAGES_MAX_ROOM: 10 };

let posted: { content: string; clientMsgId: string }[];
/** What the digest store was asked: [kind, first user, count, small]. */
let asked: [string, string, number, boolean][];
let due: Digest[];

function setUp() {
  posted = [];
  asked = [];
  due = [];
  const bus = {
    request: async (_subject: string, data: Uint8Array) => {
      const { content, clientMsgId } = internal.SystemMessageRequest.decode(data);
      posted.push({ content, clientMsgId });
      return internal.SystemMessageReply.encode({ seq: posted.length }).finish();
    },
  } as unknown as Bus;
  const ignore = () => undefined;
  const ctx = {
    config,
    bus,
    subjects: { systemMessages: 'system-messages' },
    metrics: { systemMessages: { inc: ignore } },
    log: { debug: ignore, warn: ignore },
  } as unknown as PresenceContext;
  // A small room's change is announced singly, anything else digested (the store decides by its allowance too).
  const digests: JoinLeaveDigestStore = {
    announce: async (_room, kind, firstUser, count, small) => {
      asked.push([kind, firstUser, count, small]);
      return small;
    },
    take: async () => ({ due, gathering: false }),
  };
  return createJoinLeaveMessages(ctx, digests);
}

const change = (count: number, arrivals: string[], departures: string[] = []): PresenceChange => ({
  room,
  count,
  peak: count,
  everCount: count,
  push: false,
  arrivals: arrivals.map((userId) => ({ userId, since: 100 })),
  departures: departures.map((userId) => ({ userId, since: 50 })),
});

describe('join/leave messages', () => {
  it('announces each viewer of a small room, with an id unique per session', async () => {
    const messages = setUp();
    await messages.announce(change(2, ['alice'], ['bob']));
    expect(asked).toEqual([
      ['joined', 'alice', 1, true],
      ['left', 'bob', 1, true],
    ]);
    expect(posted).toEqual([
      { content: 'alice joined', clientMsgId: 'joined:alice:100' },
      { content: 'bob left', clientMsgId: 'left:bob:50' },
    ]);
  });

  it('hands a change that makes the room larger than JOIN_AGGREGATE_ABOVE to the digest', async () => {
    const messages = setUp();
    await messages.announce(change(5, ['a', 'b', 'c']));
    expect(asked).toEqual([['joined', 'a', 3, false]]);
    expect(posted).toEqual([]);
  });

  it('judges a mass leave by the room it left, not the small room it ends in', async () => {
    const messages = setUp();
    await messages.announce(change(1, [], ['a', 'b', 'c', 'd']));
    expect(asked).toEqual([['left', 'a', 4, false]]);
  });

  it('announces nothing in a room larger than JOIN_MESSAGES_MAX_ROOM, before or after the change', async () => {
    const messages = setUp();
    await messages.announce(change(11, ['a']));
    await messages.announce(change(9, [], ['a', 'b']));
    expect([asked, posted]).toEqual([[], []]);
  });

  it('sends each due digest with an id unique per window', async () => {
    const messages = setUp();
    due = [
      { kind: 'joined', firstUser: 'a', count: 38, since: 1000 },
      { kind: 'left', firstUser: 'b', count: 1, since: 2000 },
    ];
    await messages.flushDigests(room);
    expect(posted).toEqual([
      { content: 'a and 37 others joined', clientMsgId: 'joined-digest:1000' },
      { content: 'b left', clientMsgId: 'left-digest:2000' },
    ]);
  });
});
