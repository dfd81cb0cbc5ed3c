// Every Redis key, named once. Keys of one room share the hash tag {<room id>} so a room's Lua
// scripts touch a single Redis Cluster slot; kinds are separated before the tag.
//
// Each key has one owner, which writes it; other services read it only through the owner's
// interface, never by the key:
//   message workers (the room log, offline webhooks): history, outbox, seq, epoch, seqLease,
//     dedup, rateLimit, slowMode, deletions, outboxRooms, persistWorkers, webhookDue, webhookJobs;
//   room facts (@lomi/rooms createRooms; the message workers' service API writes changes): meta,
//     which the append script also checks;
//   presence workers (read through @lomi/presence): userConnections, presence, presenceLeft,
//     viewers, viewingSince, viewerStats, viewersEver, joinLeaveDigest, typing, typingPushedAt,
//     userTyping, presenceRooms, presenceSweepLock;
//   moderation workers (read through @lomi/moderation and @lomi/rooms createPins): roomSettings,
//     sanctions, moderationScope, pin, pinExpiries.
import { InternalError } from '@lomi/errors';
import { roomKindOfToken, roomKindToken, type Room } from '@lomi/protocol';

export type Keys = ReturnType<typeof createKeys>;

function roomPrefix(namespace: string, room: Room): string {
  const kind = roomKindToken(room.kind);
  if (!kind) throw new InternalError(`room without a kind: ${JSON.stringify(room)}`);
  return `${namespace}:${kind}:{${room.id}}`;
}

/** The room of one of the namespace's outbox keys, or undefined for any other key. */
function roomOfOutbox(namespace: string, key: string): Room | undefined {
  const match = /^(live|dm):\{([^}]*)\}:outbox$/.exec(key.startsWith(`${namespace}:`) ? key.slice(namespace.length + 1) : '');
  if (!match) return undefined;
  return { kind: roomKindOfToken(match[1]!), id: match[2] };
}

/** How many work lists the outboxes are spread over; the message workers divide them between them. */
export const OUTBOX_SHARDS = 64;

/** The shard of an outbox key (FNV-1a of the key), the same in every process. */
export function outboxShardOf(outboxKey: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < outboxKey.length; i++) {
    hash ^= outboxKey.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % OUTBOX_SHARDS;
}

export function createKeys(namespace: string) {
  return {
    /** Capped stream of the room's recent messages; entry id = "<seq>-0". */
    history: (room: Room) => `${roomPrefix(namespace, room)}:history`,
    /** Uncapped stream of stored messages not yet in Postgres; drained by the persister. */
    outbox: (room: Room) => `${roomPrefix(namespace, room)}:outbox`,
    /** The room's last assigned seq. */
    seq: (room: Room) => `${roomPrefix(namespace, room)}:seq`,
    /** Random id of the current history epoch; a new one whenever Redis lost the room's state. */
    epoch: (room: Room) => `${roomPrefix(namespace, room)}:epoch`,
    /**
     * Hash: the seqs Redis may hand out in the current epoch. `until` = the ceiling reserved in
     * Postgres (room_sequences), `incarnation` = the run_id of the Redis server it was installed
     * in (any other server, or a restart, makes it void), `base` = the epoch's start, `last` =
     * the previous epoch's highest stored seq.
     */
    seqLease: (room: Room) => `${roomPrefix(namespace, room)}:seq-lease`,
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
    /**
     * Live room presence: sorted set of "<user id>|<gateway id>" → expiry (Unix ms), one entry
     * per user per gateway, refreshed by that gateway's heartbeats.
     */
    presence: (room: Room) => `${roomPrefix(namespace, room)}:presence`,
    /** Sorted set of presence entries that left → when their gateway reported it, so an older report cannot bring them back. */
    presenceLeft: (room: Room) => `${roomPrefix(namespace, room)}:presence-left`,
    /** Hash user id → how many presence entries (gateways) the user has in the room; its size is the viewer count. */
    viewers: (room: Room) => `${roomPrefix(namespace, room)}:viewers`,
    /** Hash user id → when the user's current viewing session began (Unix ms). */
    viewingSince: (room: Room) => `${roomPrefix(namespace, room)}:viewing-since`,
    /** Hash of viewer statistics: peak, last pushed count and time, ended flag. */
    viewerStats: (room: Room) => `${roomPrefix(namespace, room)}:viewer-stats`,
    /** Set of every user who has viewed the stream, for its total of distinct viewers. */
    viewersEver: (room: Room) => `${roomPrefix(namespace, room)}:viewers-ever`,
    /** Hash of joins and leaves waiting to be announced in one aggregated system message. */
    joinLeaveDigest: (room: Room) => `${roomPrefix(namespace, room)}:join-leave-digest`,
    /** Sorted set of user id → when their "typing" expires (Unix ms). */
    typing: (room: Room) => `${roomPrefix(namespace, room)}:typing`,
    /** Hash user id → when their last "typing" was pushed (Unix ms), for the push throttle. */
    typingPushedAt: (room: Room) => `${roomPrefix(namespace, room)}:typing-pushed`,
    /** Hash room key → id of the connection the user is typing from, to stop it when that socket closes. */
    userTyping: (userId: string) => `${namespace}:user:{${userId}}:typing`,
    /** Sorted set of room key → last activity (Unix ms): rooms with presence or typing state; the presence sweeper's work list. */
    presenceRooms: `${namespace}:presence:rooms`,
    /** Held by the presence worker sweeping this tick, so several workers do not repeat the work. */
    presenceSweepLock: `${namespace}:presence:sweep-lock`,
    /** GCRA state of one sender in one live room: the theoretical arrival time (Redis TIME, µs). */
    rateLimit: (room: Room, userId: string) => `${roomPrefix(namespace, room)}:rate:${userId}`,
    /** GCRA's partner for slow mode: when the sender's last message in the live room was stored (Redis TIME, µs). */
    slowMode: (room: Room, userId: string) => `${roomPrefix(namespace, room)}:slow:${userId}`,
    /**
     * Cache of a live room's settings: hash of `s` (encoded RoomSettings, block list included) and
     * `v` (its version). Postgres live_room_settings is the record; @lomi/moderation reads and
     * writes it, no one else.
     */
    roomSettings: (room: Room) => `${roomPrefix(namespace, room)}:settings`,
    /**
     * Cache of a live room's timeouts and bans: hash of `s` (JSON user id → {kind, until}) and `v`
     * (its version). Postgres room_sanctions is the record; @lomi/moderation reads and writes it.
     */
    sanctions: (room: Room) => `${roomPrefix(namespace, room)}:sanctions`,
    /**
     * The room's deleted messages still in its Redis streams: hash seq → JSON {by, at}. Owned by
     * the message workers (Postgres message_deletions is the record); it lives as long as the
     * history stream (the append script renews both).
     */
    deletions: (room: Room) => `${roomPrefix(namespace, room)}:deletions`,
    /** Cache of the live room's pin (encoded Pin, or empty for "none"); Postgres live_stream_pins is the record. */
    pin: (room: Room) => `${roomPrefix(namespace, room)}:pin`,
    /**
     * Live rooms with a pin: sorted set of stream id → expiry (Unix ms), the moderation workers'
     * expiry work list. In Redis, not Postgres, so deployments sharing a database sweep only their
     * own pins.
     */
    pinExpiries: `${namespace}:pins:expiries`,
    /**
     * Cache of one moderation scope's users ("stream:<id>", "channel:<broadcaster id>", "staff"):
     * hash of `s` (JSON array of user ids) and `v` (the version it was written at). Postgres is the record;
     * @lomi/moderation reads and writes it, no one else.
     */
    moderationScope: (scope: string) => `${namespace}:moderation:${scope}`,
    /**
     * Offline-webhook jobs: sorted set of job id → when it is next due (Unix ms; a claimed job is
     * pushed a lease ahead). Shares its hash tag with webhookJobs so one script moves both.
     */
    webhookDue: `${namespace}:{webhooks}:due`,
    /** Offline-webhook jobs: hash job id → JSON job (body, attempts so far). */
    webhookJobs: `${namespace}:{webhooks}:jobs`,
    /**
     * Rooms whose outbox may hold entries, in OUTBOX_SHARDS sets (outboxShardOf picks a room's):
     * the persisters' work lists. Each shard is drained by one message worker at a time.
     */
    outboxRooms: (shard: number) => `${namespace}:persist:{shard-${shard}}:rooms`,
    /** Sorted set of message worker id → until when it is alive (Unix ms): who shares the outbox shards. */
    persistWorkers: `${namespace}:persist:workers`,
    /** Pattern matching every outbox, for the persister's safety sweep. */
    outboxPattern: `${namespace}:*:outbox`,
    /** The room an outbox key belongs to (the inverse of outbox), or undefined. */
    roomOfOutbox: (key: string) => roomOfOutbox(namespace, key),
    /** Pattern matching every key of the namespace, for test systems and benchmarks that remove what they wrote. */
    allPattern: `${namespace}:*`,
  } as const;
}
