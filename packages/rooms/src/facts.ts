// Room facts (does it exist, is the stream live, who are the members, who of them is blocked),
// read from Postgres and cached in the room's meta (room-meta.ts). Service operations overwrite the cache when they change
// a room; readers only fill an empty key, so a reader holding pre-change facts cannot undo them.
// Shared by every worker that authorises room commands, so they all answer alike.
//
// Sends, the hot path, do not read the key: a worker authorises them against the meta value it
// last saw of the room, and the append script stores the message only if the key still holds
// exactly that value (message-worker append.ts). So a send costs no Redis round trip of its own
// for its facts, and is never authorised against facts that have changed since.
import { RequestError } from '@lomi/errors';
import { coalescing } from '@lomi/service-runtime';
import type { LiveStreamStatus } from '@lomi/db';
import { ErrorCode, RoomKind, roomKey, type Room } from '@lomi/protocol';
import { createRoomMetaStore } from './room-meta';
import type { RoomStores } from './store';

export type RoomFacts =
  | { kind: 'missing' }
  | { kind: 'live'; status: LiveStreamStatus; broadcasterId: string }
  // `blocked`: members the other has blocked, whose sends to the conversation are refused.
  | { kind: 'private'; members: string[]; blocked?: string[] };

/**
 * What a user asks to do in a room; reading history stays allowed after a stream ended. Who may
 * moderate is not a room fact but a role (@lomi/moderation).
 */
export type RoomAction = 'join' | 'send' | 'history';

const FACTS_TTL_SECONDS = 300;
// Short, so a room created behind the service API's back becomes usable soon.
const MISSING_TTL_SECONDS = 5;
/** Rooms whose last seen meta value a worker keeps; the oldest seen is dropped first. */
const SEEN_MAX = 10_000;

/** Facts and the meta value they were read from, which the append script checks. */
export interface SeenFacts {
  facts: RoomFacts;
  meta: string;
}

/** Two users as a conversation row holds them: in byte order, the order of its CHECK (user_a < user_b collate "C"). */
export function conversationMembers(a: string, b: string): [userA: string, userB: string] {
  return Buffer.compare(Buffer.from(a), Buffer.from(b)) < 0 ? [a, b] : [b, a];
}

export type Rooms = ReturnType<typeof createRooms>;

export function createRooms({ db, hot }: RoomStores) {
  const metas = createRoomMetaStore(hot);
  async function load(room: Room): Promise<RoomFacts> {
    const id = room.id ?? '';
    if (room.kind === RoomKind.ROOM_KIND_LIVE) {
      const row = await db.selectFrom('live_streams').select(['status', 'broadcaster_id']).where('id', '=', id).executeTakeFirst();
      return row ? { kind: 'live', status: row.status, broadcasterId: row.broadcaster_id } : { kind: 'missing' };
    }
    const row = await db.selectFrom('conversations').select(['user_a', 'user_b']).where('id', '=', id).executeTakeFirst();
    if (!row) return { kind: 'missing' };
    const blocks = await db
      .selectFrom('user_blocks')
      .select('blocked_id')
      .where((eb) => eb.or([eb.and({ blocker_id: row.user_a, blocked_id: row.user_b }), eb.and({ blocker_id: row.user_b, blocked_id: row.user_a })]))
      .execute();
    return { kind: 'private', members: [row.user_a, row.user_b], blocked: blocks.map((b) => b.blocked_id) };
  }

  const ttl = (facts: RoomFacts) => (facts.kind === 'missing' ? MISSING_TTL_SECONDS : FACTS_TTL_SECONDS);

  const seen = new Map<string, SeenFacts>();
  /** Remembers `meta` as the room's current meta value, or forgets the room (null). */
  function see(room: Room, meta: string | null): SeenFacts | undefined {
    const key = roomKey(room);
    seen.delete(key);
    if (meta === null) return undefined;
    if (seen.size >= SEEN_MAX) seen.delete(seen.keys().next().value!);
    const entry = { facts: JSON.parse(meta) as RoomFacts, meta };
    seen.set(key, entry);
    return entry;
  }

  // Every join asks; a burst of them shares one read (callers only read the result).
  const read = coalescing(roomKey, async (room: Room): Promise<SeenFacts> => {
    const cached = await metas.get(room);
    if (cached) return see(room, cached)!;
    const loaded = await load(room);
    const meta = JSON.stringify(loaded);
    // Had another worker filled the key meanwhile, its value differs at most in facts that
    // changed since; the append script's check catches that.
    await metas.fill(room, meta, ttl(loaded));
    return see(room, meta)!;
  });
  const facts = async (room: Room): Promise<RoomFacts> => (await read(room)).facts;

  async function remember(room: Room, changed: RoomFacts): Promise<void> {
    const meta = JSON.stringify(changed);
    await metas.set(room, meta, ttl(changed));
    see(room, meta);
  }

  /** Throws the RequestError that refuses `action`, or returns the room's facts when the user may do it. */
  async function authorize(room: Room, userId: string, action: RoomAction): Promise<RoomFacts> {
    return check(await facts(room), room, userId, action);
  }

  function check(known: RoomFacts, room: Room, userId: string, action: RoomAction): RoomFacts {
    if (room.kind === RoomKind.ROOM_KIND_PRIVATE) {
      // The same answer for "no such conversation" and "not yours", so ids cannot be probed.
      if (known.kind !== 'private' || !known.members.includes(userId)) {
        throw new RequestError(ErrorCode.ERROR_CODE_FORBIDDEN, 'not a member of this conversation');
      }
      // A blocked member is told no more than that they may not send.
      if (action === 'send' && known.blocked?.includes(userId)) throw new RequestError(ErrorCode.ERROR_CODE_FORBIDDEN, 'you may not send to this conversation');
      return known;
    }
    if (known.kind !== 'live') throw new RequestError(ErrorCode.ERROR_CODE_NOT_FOUND, 'no such live stream');
    if (known.status === 'ended' && action !== 'history') {
      throw new RequestError(ErrorCode.ERROR_CODE_ROOM_CLOSED, 'the live stream has ended');
    }
    return known;
  }

  return {
    facts,
    authorize,

    /**
     * authorize() against the meta value this worker last saw of the room, for a write that
     * checks `meta` is still current as it stores. Read when it has none, or would refuse.
     */
    async authorizeSeen(room: Room, userId: string, action: RoomAction): Promise<SeenFacts> {
      const entry = seen.get(roomKey(room));
      if (entry) {
        try {
          check(entry.facts, room, userId, action);
          return entry;
        } catch {
          // The script can only catch facts that changed against a send we let through; a
          // refusal must not rest on an old value (a room created since we saw it missing).
        }
      }
      const current = await read(room);
      check(current.facts, room, userId, action);
      return current;
    },

    /** Learns the room's current meta value from a write that found it changed (null: none). */
    seen: see,

    /** Records facts a service operation just changed, replacing whatever was cached. */
    remember,

    /** Reads the room's facts from Postgres after a change there, replacing whatever was cached. */
    reload: async (room: Room): Promise<RoomFacts> => {
      const loaded = await load(room);
      await remember(room, loaded);
      return loaded;
    },

    /**
     * For read-only HTTP calls: the app back end (service token) may read any existing room, a
     * user what they may join (or could, before the stream ended).
     */
    async authorizeRead(room: Room, caller: { service: boolean; userId: string }): Promise<RoomFacts> {
      if (!caller.service) return authorize(room, caller.userId, 'history');
      const known = await facts(room);
      if (known.kind === 'missing') throw new RequestError(ErrorCode.ERROR_CODE_NOT_FOUND, 'no such room');
      return known;
    },
  };
}
