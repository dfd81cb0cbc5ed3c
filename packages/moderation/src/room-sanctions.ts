// Timeouts and bans of users in live rooms, as every service reads them: Postgres room_sanctions is
// the record, written by the moderation workers only; Redis caches a room's active sanctions at
// their version; each reader holds them in memory, so a send or join of a user without a sanction
// costs no round trip for it. A change is published as RoomSanctionsChanged and every reader drops
// the room; NATS core may drop an event, so memory entries also expire (MEMORY_TTL_MS), and a
// reader forgets everything when its NATS connection comes back.
import type { Bus } from '@lomi/bus';
import { RequestError, type Logger, type Subjects } from '@lomi/common';
import type { SanctionKindName } from '@lomi/db';
import { ErrorCode, internal, roomKey, type Room } from '@lomi/protocol';
import type { RoomStores } from '@lomi/rooms';

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

// Redis keeps a room's sanctions this long after they were written or read from Postgres.
const CACHE_TTL_SECONDS = 3600;
// Writes the sanctions unless the cache holds a newer version (a reader that read Postgres before
// a change committed cannot put the older state back over the writer's).
const WRITE_IF_NEWER = `
local current = redis.call('HGET', KEYS[1], 'v')
if current and tonumber(current) > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 's', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
`;

export function createRoomSanctionsCache({ db, redis, keys }: RoomStores) {
  const write = (room: Room, version: number, sanctions: ReadonlyMap<string, ActiveSanction>) =>
    redis.eval(WRITE_IF_NEWER, 1, keys.sanctions(room), version, JSON.stringify(Object.fromEntries(sanctions)), CACHE_TTL_SECONDS);

  return {
    /** The room's sanctions: from Redis, else from Postgres (then cached at version 0). */
    async read(room: Room): Promise<Map<string, ActiveSanction>> {
      const cached = await redis.hget(keys.sanctions(room), 's');
      if (cached !== null) return new Map(Object.entries(JSON.parse(cached) as Record<string, ActiveSanction>));
      const sanctions = await loadRoomSanctions(db, room);
      await write(room, 0, sanctions);
      return sanctions;
    },

    /** For the moderation workers, after a change committed: the room's sanctions as of `version`. */
    write,
  };
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

/** How long a process trusts a room's sanctions it read without hearing of a change. */
const MEMORY_TTL_MS = 10_000;
/** Rooms held in memory; the oldest read goes first. */
const MEMORY_MAX_ROOMS = 10_000;

export interface RoomSanctionsDeps extends RoomStores {
  bus: Bus;
  subjects: Subjects;
  log: Logger;
}

export type RoomSanctions = ReturnType<typeof createRoomSanctions>;

export function createRoomSanctions(deps: RoomSanctionsDeps) {
  const cache = createRoomSanctionsCache(deps);
  const held = new Map<string, { sanctions: RoomSanctionMap; readAt: number }>();
  // A read that overlapped a change may hold the old state: it answers its callers but is not kept.
  const reading = new Map<string, Promise<RoomSanctionMap>>();

  function forget(room: Room): void {
    const key = roomKey(room);
    held.delete(key);
    reading.delete(key);
  }

  function of(room: Room): RoomSanctionMap | Promise<RoomSanctionMap> {
    const key = roomKey(room);
    const entry = held.get(key);
    if (entry && performance.now() - entry.readAt < MEMORY_TTL_MS) return entry.sanctions;
    const pending = reading.get(key);
    if (pending) return pending;
    const read = cache.read(room).then((sanctions) => {
      if (reading.get(key) === read) {
        reading.delete(key);
        held.delete(key);
        if (held.size >= MEMORY_MAX_ROOMS) held.delete(held.keys().next().value!);
        held.set(key, { sanctions, readAt: performance.now() });
      }
      return sanctions;
    });
    read.catch(() => reading.get(key) === read && reading.delete(key));
    reading.set(key, read);
    return read;
  }

  const subscription = deps.bus.subscribe(deps.subjects.events.roomSanctionsChanged, (msg) => {
    try {
      const { room } = internal.RoomSanctionsChanged.decode(msg.data);
      if (room) forget(room);
    } catch (e) {
      deps.log.warn({ err: e }, 'undecodable RoomSanctionsChanged event');
    }
  });
  const unwatch = deps.bus.onStatus((status) => {
    if (status === 'reconnected') {
      held.clear();
      reading.clear();
    }
  });

  /** The user's sanction in the room now, if any (a timeout that ran out is none). */
  async function current(room: Room, userId: string): Promise<ActiveSanction | undefined> {
    const sanction = (await of(room)).get(userId);
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
    forget,

    /** The Redis cache, for the writer. */
    cache,

    async stop(): Promise<void> {
      unwatch();
      subscription.unsubscribe();
    },
  };
}
