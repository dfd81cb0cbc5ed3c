// A live room's settings (slow mode, the word filter, the room's own block list) as every service
// reads them: Postgres live_room_settings is the record, written by the moderation workers only;
// Redis caches it per room at its version; each reader holds it in memory. A change is published
// with the full settings (RoomSettingsChanged), so readers apply it without a read of their own,
// within the event's delivery. NATS core may drop an event, so memory entries expire too
// (MEMORY_TTL_MS), and a reader forgets everything when its NATS connection comes back.
import type { Bus } from '@lomi/bus';
import type { Logger, Subjects } from '@lomi/common';
import { chat, FilterAction, internal, roomKey, type lomi, type Room } from '@lomi/protocol';
import type { RoomStores } from '@lomi/rooms';

export type RoomSettings = lomi.chat.v1.RoomSettings;

/** A room nobody configured: no slow mode, the word filter on (the deployment's list applies), no list of its own. */
export const DEFAULT_ROOM_SETTINGS: RoomSettings = chat.RoomSettings.create({
  slowModeS: 0,
  wordFilter: true,
  blockedTermsAction: FilterAction.FILTER_ACTION_REFUSE,
  blockedTermsCount: 0,
  blockedTerms: [],
  version: 0,
});

/** What viewers see (pushes, join replies): everything but the block list's terms. */
export function publicSettings(settings: RoomSettings): lomi.chat.v1.IRoomSettings {
  return { ...settings, blockedTerms: [] };
}

/** The room's settings as Postgres has them now (inside a transaction when `db` is one). */
export async function loadRoomSettings(db: RoomStores['db'], room: Room): Promise<RoomSettings> {
  const row = await db.selectFrom('live_room_settings').selectAll().where('stream_id', '=', room.id ?? '').executeTakeFirst();
  if (!row) return DEFAULT_ROOM_SETTINGS;
  const terms = row.blocked_terms as string[];
  return chat.RoomSettings.create({
    slowModeS: row.slow_mode_s,
    wordFilter: row.word_filter,
    blockedTermsAction: row.blocked_terms_action === 'mask' ? FilterAction.FILTER_ACTION_MASK : FilterAction.FILTER_ACTION_REFUSE,
    blockedTermsCount: terms.length,
    blockedTerms: terms,
    version: row.version,
  });
}

// Redis keeps a room's settings this long after they were written or read from Postgres.
const CACHE_TTL_SECONDS = 3600;
// Writes the settings unless the cache holds a newer version (a reader that read Postgres before
// a change committed cannot put the older settings back over the writer's).
const WRITE_IF_NEWER = `
local current = redis.call('HGET', KEYS[1], 'v')
if current and tonumber(current) > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 's', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
`;

export function createRoomSettingsCache({ db, redis, keys }: RoomStores) {
  const write = (room: Room, settings: RoomSettings) =>
    redis.eval(WRITE_IF_NEWER, 1, keys.roomSettings(room), Number(settings.version), Buffer.from(chat.RoomSettings.encode(settings).finish()), CACHE_TTL_SECONDS);

  return {
    /** The room's settings: from Redis, else from Postgres (then cached). */
    async read(room: Room): Promise<RoomSettings> {
      const cached = await redis.hgetBuffer(keys.roomSettings(room), 's');
      if (cached) return chat.RoomSettings.decode(cached);
      const settings = await loadRoomSettings(db, room);
      await write(room, settings);
      return settings;
    },

    /** For the moderation workers, after a change committed. */
    write,
  };
}

/** How long a process trusts settings it read without hearing of a change. */
const MEMORY_TTL_MS = 10_000;
/** Rooms held in memory; the oldest read goes first. */
const MEMORY_MAX_ROOMS = 10_000;

export interface RoomSettingsDeps extends RoomStores {
  bus: Bus;
  subjects: Subjects;
  log: Logger;
}

export type RoomSettingsReader = ReturnType<typeof createRoomSettings>;

export function createRoomSettings(deps: RoomSettingsDeps) {
  const cache = createRoomSettingsCache(deps);
  const held = new Map<string, { settings: RoomSettings; readAt: number }>();
  const reading = new Map<string, Promise<RoomSettings>>();

  /** Keeps `settings` unless newer ones are held. */
  function keep(key: string, settings: RoomSettings): void {
    const current = held.get(key);
    if (current && Number(current.settings.version) > Number(settings.version)) return;
    held.delete(key);
    if (held.size >= MEMORY_MAX_ROOMS) held.delete(held.keys().next().value!);
    held.set(key, { settings, readAt: performance.now() });
  }

  function get(room: Room): RoomSettings | Promise<RoomSettings> {
    const key = roomKey(room);
    const entry = held.get(key);
    if (entry && performance.now() - entry.readAt < MEMORY_TTL_MS) return entry.settings;
    const pending = reading.get(key);
    if (pending) return pending;
    const read = cache.read(room).then((settings) => {
      if (reading.get(key) === read) reading.delete(key);
      keep(key, settings);
      return held.get(key)!.settings;
    });
    read.catch(() => reading.get(key) === read && reading.delete(key));
    reading.set(key, read);
    return read;
  }

  const subscription = deps.bus.subscribe(deps.subjects.events.roomSettingsChanged, (msg) => {
    try {
      const { room, settings } = internal.RoomSettingsChanged.decode(msg.data);
      if (room && settings) keep(roomKey(room), settings as RoomSettings);
    } catch (e) {
      deps.log.warn({ err: e }, 'undecodable RoomSettingsChanged event');
    }
  });
  const unwatch = deps.bus.onStatus((status) => {
    if (status === 'reconnected') held.clear();
  });

  return {
    /** The live room's settings (memory, else Redis, else Postgres). */
    get,
    /** Takes settings this process just wrote (the writer, at once; everyone else on the event). */
    apply: (room: Room, settings: RoomSettings) => keep(roomKey(room), settings),
    /** The Redis cache, for the writer. */
    cache,
    async stop(): Promise<void> {
      unwatch();
      subscription.unsubscribe();
    },
  };
}
