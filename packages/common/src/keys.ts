// Every Redis key, named once. Keys of one room share the hash tag {<room id>} so a room's Lua
// scripts touch a single Redis Cluster slot; kinds are separated before the tag.
import { RoomKind, type Room } from '@lomi/protocol';

export type Keys = ReturnType<typeof createKeys>;

function roomPrefix(namespace: string, room: Room): string {
  const kind = room.kind === RoomKind.ROOM_KIND_LIVE ? 'live' : room.kind === RoomKind.ROOM_KIND_PRIVATE ? 'dm' : undefined;
  if (!kind) throw new Error(`room without a kind: ${JSON.stringify(room)}`);
  return `${namespace}:${kind}:{${room.id}}`;
}

export function createKeys(namespace: string) {
  return {
    /** Capped stream of the room's recent messages; entry id = "<seq>-0". */
    history: (room: Room) => `${roomPrefix(namespace, room)}:history`,
    /** Uncapped stream of stored messages not yet in Postgres; drained by the persister. */
    outbox: (room: Room) => `${roomPrefix(namespace, room)}:outbox`,
    /** The room's last assigned seq. */
    seq: (room: Room) => `${roomPrefix(namespace, room)}:seq`,
    /** Random id of the current history; changes when Redis lost the room's stream. */
    epoch: (room: Room) => `${roomPrefix(namespace, room)}:epoch`,
    /** Hash client_msg_id → seq for one sender, for idempotent sends. */
    dedup: (room: Room, senderId: string) => `${roomPrefix(namespace, room)}:dedup:${senderId}`,
    /** Cached room facts (live status, broadcaster, private members). */
    meta: (room: Room) => `${roomPrefix(namespace, room)}:meta`,
    /**
     * The user's open connections on any gateway: sorted set of connection id → expiry (Unix
     * ms). Kept by the presence worker from gateway reports and heartbeats; a user is online
     * while a member's score is in the future.
     */
    userConnections: (userId: string) => `${namespace}:user:{${userId}}:connections`,
    /** Rooms whose outbox may hold entries; the persister's work list. */
    outboxRooms: `${namespace}:persist:rooms`,
    /** Pattern matching every outbox, for the persister's safety sweep. */
    outboxPattern: `${namespace}:*:outbox`,
  } as const;
}
