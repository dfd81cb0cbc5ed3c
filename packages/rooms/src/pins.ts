// The pin of a live room. Postgres (live_stream_pins) is the record, so a pin survives restarts
// and a Redis loss; the room's Redis pin key caches it for joins, which are far more frequent
// than pin changes. The moderation workers write it; every worker that answers a join reads it.
import { chat, RoomKind, type lomi, type Room } from '@lomi/protocol';
import type { RoomStores } from './store';

type Pin = lomi.chat.v1.Pin;

// An empty cache value means "no pin", so rooms without one do not ask Postgres on every join.
const NO_PIN = Buffer.alloc(0);
const NO_PIN_TTL_MS = 300_000;

const REMOVE_IF_DUE = `
for i = 2, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) <= tonumber(ARGV[1]) then redis.call('ZREM', KEYS[1], ARGV[i]) end
end
`;

const liveRoom = (id: string): Room => ({ kind: RoomKind.ROOM_KIND_LIVE, id });

export type Pins = ReturnType<typeof createPins>;

export function createPins({ db, redis, keys }: RoomStores) {
  async function load(room: Room): Promise<Pin | null> {
    const row = await db
      .selectFrom('live_stream_pins')
      .selectAll()
      .where('stream_id', '=', room.id ?? '')
      .where('expires_at', '>', new Date())
      .executeTakeFirst();
    if (!row) return null;
    return chat.Pin.create({
      message: chat.ChatMessage.fromObject(row.message as Record<string, unknown>),
      pinnedBy: row.pinned_by,
      pinnedAtMs: row.pinned_at.getTime(),
      expiresAtMs: row.expires_at.getTime(),
    });
  }

  /** Caches `pin` until it expires; `onlyIfEmpty` for readers, so they never undo a writer. */
  async function cache(room: Room, pin: Pin | null, onlyIfEmpty: boolean): Promise<void> {
    const ttlMs = pin ? Number(pin.expiresAtMs) - Date.now() : NO_PIN_TTL_MS;
    if (ttlMs <= 0) return;
    const value = pin ? Buffer.from(chat.Pin.encode(pin).finish()) : NO_PIN;
    if (onlyIfEmpty) await redis.set(keys.pin(room), value, 'PX', ttlMs, 'NX');
    else await redis.set(keys.pin(room), value, 'PX', ttlMs);
  }

  return {
    /** The room's pin, or null when it has none (or it expired). */
    async current(room: Room): Promise<Pin | null> {
      const cached = await redis.getBuffer(keys.pin(room));
      if (cached) return cached.length === 0 ? null : chat.Pin.decode(cached);
      const pin = await load(room);
      await cache(room, pin, true);
      return pin;
    },

    /** Makes `pin` the room's pin, replacing any other. */
    async set(room: Room, pin: Pin): Promise<void> {
      const row = {
        stream_id: room.id ?? '',
        message: JSON.stringify(chat.ChatMessage.toObject(pin.message as lomi.chat.v1.ChatMessage, { longs: String, enums: String })),
        pinned_by: pin.pinnedBy,
        pinned_at: new Date(Number(pin.pinnedAtMs)),
        expires_at: new Date(Number(pin.expiresAtMs)),
      };
      await db
        .insertInto('live_stream_pins')
        .values(row)
        .onConflict((oc) => oc.column('stream_id').doUpdateSet(row))
        .execute();
      await redis.zadd(keys.pinExpiries, Number(pin.expiresAtMs), room.id ?? '');
      await cache(room, pin, false);
    },

    /** Removes the room's pin; returns whether there was one. */
    async clear(room: Room): Promise<boolean> {
      const deleted = await db.deleteFrom('live_stream_pins').where('stream_id', '=', room.id ?? '').executeTakeFirst();
      await redis.zrem(keys.pinExpiries, room.id ?? '');
      await cache(room, null, false);
      return deleted.numDeletedRows > 0n;
    },

    /**
     * Deletes up to `limit` expired pins and returns their rooms. DELETE … RETURNING hands each
     * expired pin to exactly one caller, so several sweeping workers push one unpin per pin.
     */
    async takeExpired(limit: number): Promise<Room[]> {
      const now = Date.now();
      const due = await redis.zrangebyscore(keys.pinExpiries, '-inf', now, 'LIMIT', 0, limit);
      if (due.length === 0) return [];
      const rows = await db
        .deleteFrom('live_stream_pins')
        .where('stream_id', 'in', due)
        .where('expires_at', '<=', new Date(now))
        .returning('stream_id')
        .execute();
      // Every due id leaves the list (taken, or its row was already gone) unless a re-pin moved
      // its expiry later since it was read.
      await redis.eval(REMOVE_IF_DUE, 1, keys.pinExpiries, now, ...due);
      const rooms = rows.map((r) => liveRoom(r.stream_id));
      // The cached pin expired with it (its TTL); "none" saves the next join a query.
      await Promise.all(rooms.map((room) => cache(room, null, false)));
      return rooms;
    },
  };
}
