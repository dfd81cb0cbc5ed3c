// A live room's settings (slow mode, the word filter, the room's own block list) as every service
// reads them: Postgres live_room_settings is the record, written by the moderation workers only;
// the hot state caches it per room at its version; each reader holds it in memory (held.ts). A change is
// published with the full settings (RoomSettingsChanged), so readers apply it without a read of
// their own, within the event's delivery.
import { createHeld, type ReaderDeps } from './held';
import { createVersionedCache } from './versioned-cache';
import type { CachedPiece } from './versioned-cache-store';
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
  const row = await db
    .selectFrom('live_room_settings')
    .selectAll()
    .where('stream_id', '=', room.id ?? '')
    .executeTakeFirst();
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

export interface RoomSettingsCache {
  read(room: Room): Promise<RoomSettings>;
  /** For the moderation workers, after a change committed. */
  write(room: Room, settings: RoomSettings): Promise<void>;
}

/** A live room's cached settings, kept this long after they were written or read from Postgres. */
export const ROOM_SETTINGS_PIECE: CachedPiece<Room> = { name: 'room-settings', id: roomKey, redisKey: (keys, room) => keys.roomSettings(room), ttlSeconds: 3600 };

export function createRoomSettingsCache({ db, hot }: RoomStores): RoomSettingsCache {
  const cache = createVersionedCache<Room, RoomSettings>({
    hot,
    piece: ROOM_SETTINGS_PIECE,
    encode: (settings) => Buffer.from(chat.RoomSettings.encode(settings).finish()),
    decode: (raw) => chat.RoomSettings.decode(raw),
    load: async (room) => {
      const settings = await loadRoomSettings(db, room);
      return { value: settings, version: Number(settings.version) };
    },
  });
  return {
    read: cache.read,
    write: (room, settings) => cache.write(room, Number(settings.version), settings),
  };
}

export type RoomSettingsDeps = ReaderDeps;

export type RoomSettingsReader = ReturnType<typeof createRoomSettings>;

export function createRoomSettings(deps: RoomSettingsDeps) {
  const cache = createRoomSettingsCache(deps);
  const held = createHeld<Room, RoomSettings>({
    ...deps,
    id: roomKey,
    read: cache.read,
    // A change carries the full settings: readers take them without a read of their own.
    event: {
      subject: deps.subjects.events.roomSettingsChanged,
      name: 'RoomSettingsChanged',
      apply(msg, h) {
        const { room, settings } = internal.RoomSettingsChanged.decode(msg.data);
        if (room && settings) h.keep(room, settings as RoomSettings);
      },
    },
    newer: (value, current) => Number(value.version) >= Number(current.version),
  });
  return {
    /** The live room's settings (held, else cached, else Postgres). */
    get: (room: Room) => held.get(room),
    /** Takes settings this process just wrote (the writer, at once; everyone else on the event). */
    apply: (room: Room, settings: RoomSettings) => held.keep(room, settings),
    /** The cache, for the writer. */
    cache,
    async stop(): Promise<void> {
      held.stop();
    },
  };
}
