// Timeouts and bans of users in live rooms, as every service reads them: Postgres room_sanctions is
// the record, written by the moderation workers only; the hot state caches a room's active
// sanctions at their version; each reader holds them in memory (held.ts), so a send or join of a
// user without a sanction costs no round trip for it. A change is published as RoomSanctionsChanged and every
// reader drops the room.
import { RequestError } from '@lomi/errors';
import type { SanctionKindName } from '@lomi/db';
import { ErrorCode, internal, roomKey, type Room } from '@lomi/protocol';
import type { RoomStores } from '@lomi/rooms';
import { createHeld, type ReaderDeps } from './held';
import { createVersionedCache, type VersionedCache } from './versioned-cache';

/** What a user may not do in a live room, until `untilMs` (0 for a ban). */
export interface ActiveSanction {
  kind: SanctionKindName;
  untilMs: number;
}

/** A room's active sanctions by user id. */
export type RoomSanctionMap = ReadonlyMap<string, ActiveSanction>;

/** The room's sanctions as Postgres has them now (inside a transaction when `db` is one); ended timeouts left out. */
export async function loadRoomSanctions(db: RoomStores['db'], room: Room): Promise<Map<string, ActiveSanction>> {
  const rows = await db
    .selectFrom('room_sanctions')
    .select(['user_id', 'kind', 'expires_at'])
    .where('stream_id', '=', room.id ?? '')
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', new Date())]))
    .execute();
  return new Map(rows.map((r) => [r.user_id, { kind: r.kind, untilMs: r.expires_at?.getTime() ?? 0 }]));
}

export function createRoomSanctionsCache({ db, hot }: RoomStores): VersionedCache<Room, RoomSanctionMap> {
  return createVersionedCache<Room, RoomSanctionMap>({
    hot,
    // Kept this long after they were written or read from Postgres.
    piece: { name: 'room-sanctions', id: roomKey, redisKey: (keys, room) => keys.sanctions(room), ttlSeconds: 3600 },
    encode: (sanctions) => JSON.stringify(Object.fromEntries(sanctions)),
    decode: (raw) => new Map(Object.entries(JSON.parse(raw.toString()) as Record<string, ActiveSanction>)),
    load: async (room) => ({ value: await loadRoomSanctions(db, room), version: 0 }),
  });
}

/** Banned from the live room: sends and joins are refused until a moderator lifts it. */
export class BannedError extends RequestError {
  override name = 'BannedError';
  constructor() {
    super(ErrorCode.ERROR_CODE_BANNED, 'you are banned from this room');
  }
}

/** Timed out in the live room: sends are refused for retryAfterMs more. */
export class TimedOutError extends RequestError {
  override name = 'TimedOutError';
  constructor(retryAfterMs: number) {
    super(ErrorCode.ERROR_CODE_TIMED_OUT, `you are timed out in this room for ${Math.ceil(retryAfterMs / 1000)} s more`, retryAfterMs);
  }
}

export type RoomSanctionsDeps = ReaderDeps;

export type RoomSanctions = ReturnType<typeof createRoomSanctions>;

export function createRoomSanctions(deps: RoomSanctionsDeps) {
  const cache = createRoomSanctionsCache(deps);
  const held = createHeld<Room, RoomSanctionMap>({
    ...deps,
    id: roomKey,
    read: cache.read,
    event: {
      subject: deps.subjects.events.roomSanctionsChanged,
      name: 'RoomSanctionsChanged',
      apply(msg, h) {
        const { room } = internal.RoomSanctionsChanged.decode(msg.data);
        if (room) h.forget(room);
      },
    },
  });

  /** The user's sanction in the room now, if any (a timeout that ran out is none). */
  async function current(room: Room, userId: string): Promise<ActiveSanction | undefined> {
    const sanction = (await held.get(room)).get(userId);
    if (!sanction || (sanction.kind === 'timeout' && sanction.untilMs <= Date.now())) return undefined;
    return sanction;
  }

  return {
    current,

    /** BANNED or TIMED_OUT (with the time left) when the user may not send in the live room. */
    async assertMaySend(room: Room, userId: string): Promise<void> {
      const sanction = await current(room, userId);
      if (sanction?.kind === 'ban') throw new BannedError();
      if (sanction) throw new TimedOutError(sanction.untilMs - Date.now());
    },

    /** BANNED when the user may not join the live room. */
    async assertMayJoin(room: Room, userId: string): Promise<void> {
      if ((await current(room, userId))?.kind === 'ban') throw new BannedError();
    },

    /** Drops what this process holds of the room (the writer, at once; everyone else on the event). */
    forget: (room: Room) => held.forget(room),

    /** The cache, for the writer. */
    cache,

    async stop(): Promise<void> {
      held.stop();
    },
  };
}
