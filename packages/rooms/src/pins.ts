// The pin of a live room. Postgres (live_stream_pins) is the record, so a pin survives restarts
// and a loss of the hot state; the pin store caches it for joins, which are far more frequent
// than pin changes. The moderation workers write it; every worker that answers a join reads it.
import { chat, RoomKind, type lomi, type Room } from '@lomi/protocol';
import { createPinStore } from './pin-store';
import type { RoomStores } from './store';

type Pin = lomi.chat.v1.Pin;

// "No pin" is cached too, so rooms without one do not ask Postgres on every join.
const NO_PIN_TTL_MS = 300_000;

const liveRoom = (id: string): Room => ({ kind: RoomKind.ROOM_KIND_LIVE, id });

export interface Pins {
  /** The room's pin, or null when it has none (or it expired). */
  current(room: Room): Promise<Pin | null>;
  /** Makes `pin` the room's pin, replacing any other. */
  set(room: Room, pin: Pin): Promise<void>;
  /** Removes the room's pin; returns whether there was one. */
  clear(room: Room): Promise<boolean>;
  /** Deletes up to `limit` expired pins and returns their rooms, each to exactly one caller. */
  takeExpired(limit: number): Promise<Room[]>;
}

export function createPins({ db, hot }: RoomStores): Pins {
  const store = createPinStore(hot);

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
    await store.cache(room, pin, ttlMs, onlyIfEmpty);
  }

  return {
    async current(room: Room): Promise<Pin | null> {
      const cached = await store.cached(room);
      if (cached !== undefined) return cached;
      const pin = await load(room);
      await cache(room, pin, true);
      return pin;
    },

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
      await store.scheduleExpiry(room.id ?? '', Number(pin.expiresAtMs));
      await cache(room, pin, false);
    },

    async clear(room: Room): Promise<boolean> {
      const deleted = await db
        .deleteFrom('live_stream_pins')
        .where('stream_id', '=', room.id ?? '')
        .executeTakeFirst();
      await store.cancelExpiry(room.id ?? '');
      await cache(room, null, false);
      return deleted.numDeletedRows > 0n;
    },

    // DELETE … RETURNING hands each expired pin to exactly one caller, so several sweeping
    // workers push one unpin per pin.
    async takeExpired(limit: number): Promise<Room[]> {
      const now = Date.now();
      const due = await store.due(now, limit);
      if (due.length === 0) return [];
      const rows = await db.deleteFrom('live_stream_pins').where('stream_id', 'in', due).where('expires_at', '<=', new Date(now)).returning('stream_id').execute();
      // Every due id leaves the list (taken, or its row was already gone) unless a re-pin moved
      // its expiry later since it was read.
      await store.removeIfDue(due, now);
      const rooms = rows.map((r) => liveRoom(r.stream_id));
      // The cached pin expired with it (its TTL); "none" saves the next join a query.
      await Promise.all(rooms.map((room) => cache(room, null, false)));
      return rooms;
    },
  };
}
