// Room facts (does it exist, is the stream live, who are the members), read from Postgres and
// cached in the room's Redis meta key. Service operations overwrite the cache when they change
// a room; readers only fill an empty key, so a reader holding pre-change facts cannot undo them.
import { ErrorCode, ROOM_ID_PATTERN, RoomKind, type Room } from '@lomi/protocol';
import type { LiveStreamStatus } from '@lomi/db';
import type { WorkerContext } from './context';
import { badRequest, RequestError } from './errors';

export type RoomFacts =
  | { kind: 'missing' }
  | { kind: 'live'; status: LiveStreamStatus; broadcasterId: string }
  | { kind: 'private'; members: string[] };

export type RoomAction = 'join' | 'send' | 'history';

const FACTS_TTL_SECONDS = 300;
// Short, so a room created behind the service API's back becomes usable soon.
const MISSING_TTL_SECONDS = 5;

/** The room of a request, checked and stripped of anything but kind and id. */
export function validRoom(room: Room | null | undefined): Room {
  if (!room) throw badRequest('room is required');
  if (room.kind !== RoomKind.ROOM_KIND_LIVE && room.kind !== RoomKind.ROOM_KIND_PRIVATE) {
    throw badRequest('room kind must be LIVE or PRIVATE');
  }
  if (!ROOM_ID_PATTERN.test(room.id ?? '')) throw badRequest('room id must be 1–64 characters of A-Z a-z 0-9 _ -');
  return { kind: room.kind, id: room.id };
}

export type Rooms = ReturnType<typeof createRooms>;

export function createRooms(ctx: WorkerContext) {
  const { db, redis, keys } = ctx;

  async function load(room: Room): Promise<RoomFacts> {
    const id = room.id ?? '';
    if (room.kind === RoomKind.ROOM_KIND_LIVE) {
      const row = await db.selectFrom('live_streams').select(['status', 'broadcaster_id']).where('id', '=', id).executeTakeFirst();
      return row ? { kind: 'live', status: row.status, broadcasterId: row.broadcaster_id } : { kind: 'missing' };
    }
    const row = await db.selectFrom('conversations').select(['user_a', 'user_b']).where('id', '=', id).executeTakeFirst();
    return row ? { kind: 'private', members: [row.user_a, row.user_b] } : { kind: 'missing' };
  }

  const ttl = (facts: RoomFacts) => (facts.kind === 'missing' ? MISSING_TTL_SECONDS : FACTS_TTL_SECONDS);

  async function facts(room: Room): Promise<RoomFacts> {
    const cached = await redis.get(keys.meta(room));
    if (cached) return JSON.parse(cached) as RoomFacts;
    const loaded = await load(room);
    await redis.set(keys.meta(room), JSON.stringify(loaded), 'EX', ttl(loaded), 'NX');
    return loaded;
  }

  return {
    facts,

    /** Records facts a service operation just changed, replacing whatever was cached. */
    async remember(room: Room, changed: RoomFacts): Promise<void> {
      await redis.set(keys.meta(room), JSON.stringify(changed), 'EX', ttl(changed));
    },

    /** Throws the RequestError that refuses `action`, or returns when the user may do it. */
    async authorize(room: Room, userId: string, action: RoomAction): Promise<void> {
      const known = await facts(room);
      if (room.kind === RoomKind.ROOM_KIND_PRIVATE) {
        // The same answer for "no such conversation" and "not yours", so ids cannot be probed.
        if (known.kind !== 'private' || !known.members.includes(userId)) {
          throw new RequestError(ErrorCode.ERROR_CODE_FORBIDDEN, 'not a member of this conversation');
        }
        return;
      }
      if (known.kind !== 'live') throw new RequestError(ErrorCode.ERROR_CODE_NOT_FOUND, 'no such live stream');
      if (known.status === 'ended' && action !== 'history') {
        throw new RequestError(ErrorCode.ERROR_CODE_ROOM_CLOSED, 'the live stream has ended');
      }
    },
  };
}
