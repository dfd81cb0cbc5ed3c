// Table shapes for kysely. int8 columns are typed as numbers because createDb's pool parses them
// into numbers (see db.ts); seqs, counters and coin totals stay far below 2^53.
import type { ColumnType, Generated } from 'kysely';

/** Defaults to now() on insert; always a Date when read. */
type CreatedAt = ColumnType<Date, Date | undefined, never>;

export type RoomKindName = 'live' | 'private';
export type MessageKindName = 'text' | 'gift' | 'system';
export type LiveStreamStatus = 'live' | 'ended';

export interface MessagesTable {
  id: string;
  room_kind: RoomKindName;
  room_id: string;
  seq: number;
  sender_id: string;
  kind: MessageKindName;
  content: string;
  client_msg_id: string | null;
  gift_id: string | null;
  gift_count: number | null;
  gift_value: number | null;
  is_live: boolean;
  is_system: boolean;
  created_at: ColumnType<Date, Date, never>;
}

/**
 * One writer per column: the message workers' service API creates the row (id, broadcaster_id,
 * started_at) and ends it (status, ended_at, once: only a live row is ended); the presence workers
 * raise peak_viewers and total_viewers (GREATEST, so two workers or a retried batch agree); the
 * message workers' persister adds to total_messages, gift_count and gift_value in the transaction
 * that inserts the messages they count.
 */
export interface LiveStreamsTable {
  id: string;
  broadcaster_id: string;
  status: LiveStreamStatus;
  started_at: CreatedAt;
  ended_at: Date | null;
  peak_viewers: Generated<number>;
  total_viewers: Generated<number>;
  total_messages: Generated<number>;
  /** Gift units received (a gift of 10 roses counts 10). */
  gift_count: Generated<number>;
  /** Coins received, the sum of the gifts' values. */
  gift_value: Generated<number>;
}

export interface LiveStreamViewersTable {
  id: Generated<number>;
  stream_id: string;
  user_id: string;
  joined_at: CreatedAt;
  left_at: Date | null;
}

export interface ConversationsTable {
  id: string;
  /** The smaller of the two user ids, so a pair has exactly one row. */
  user_a: string;
  user_b: string;
  created_at: CreatedAt;
  /** Highest seq in Postgres. */
  last_seq: Generated<number>;
  /** When its newest stored message was sent (created_at until the first one). */
  last_activity_at: Generated<Date>;
}

export interface LiveStreamPinsTable {
  stream_id: string;
  /** The pinned ChatMessage, protobuf JSON mapping. */
  message: unknown;
  pinned_by: string;
  pinned_at: Date;
  expires_at: Date;
}

export interface ConversationReadsTable {
  conversation_id: string;
  user_id: string;
  read_seq: Generated<number>;
  delivered_seq: Generated<number>;
  updated_at: Generated<Date>;
}

export interface LiveStreamGiftersTable {
  stream_id: string;
  sender_id: string;
  /** Gift units this sender gave the stream. */
  gift_count: number;
  /** Coins this sender gave the stream. */
  gift_value: number;
}

/** A room's current epoch and how far Redis may hand out seqs in it (see migration 0004). */
export interface RoomSequencesTable {
  room_kind: RoomKindName;
  room_id: string;
  epoch: string;
  /** The current epoch's seqs follow this one. */
  epoch_base: number;
  /** The highest seq Redis may ever hand out in the room: every seq handed out is at most this. */
  reserved_until: number;
  updated_at: Generated<Date>;
}

/** One epoch of a room's history; (previous_last_seq, base_seq] is the hole its reset left. */
export interface RoomEpochsTable {
  room_kind: RoomKindName;
  room_id: string;
  epoch: string;
  base_seq: number;
  /** '' for the room's first epoch. */
  previous_epoch: string;
  /** The highest seq of the previous epoch still stored when this one began. */
  previous_last_seq: number;
  created_at: Generated<Date>;
}

/** An outbox entry the persister could not store; see migration 0005. */
export interface PersistDeadLettersTable {
  room_kind: RoomKindName;
  room_id: string;
  seq: number;
  /** The encoded ChatMessage of the outbox entry (its seq is `seq`). */
  entry: Buffer;
  error: string;
  /** Postgres' error code, when Postgres refused it. */
  sqlstate: string | null;
  failed_at: CreatedAt;
}

export type ModeratorScopeKind = 'stream' | 'channel';

/** A moderator of a stream (scope_id = stream id) or of a channel (scope_id = broadcaster id). */
export interface ModeratorsTable {
  scope: ModeratorScopeKind;
  scope_id: string;
  user_id: string;
  granted_by: string | null;
  granted_at: CreatedAt;
}

export interface StaffTable {
  user_id: string;
  granted_by: string | null;
  granted_at: CreatedAt;
}

export interface PlatformBansTable {
  user_id: string;
  reason: string;
  banned_by: string | null;
  banned_at: CreatedAt;
}

/** One moderation action (the audit log); see migration 0006. */
export interface ModerationActionsTable {
  id: Generated<number>;
  /** null: the app back end (service API) without naming who. */
  actor_id: string | null;
  action: string;
  target_user_id: string | null;
  room_kind: RoomKindName | null;
  room_id: string | null;
  channel_id: string | null;
  message_seq: number | null;
  reason: string | null;
  created_at: CreatedAt;
  expires_at: Date | null;
}

export interface MessageReportsTable {
  id: Generated<number>;
  room_kind: RoomKindName;
  room_id: string;
  seq: number;
  /** The reported ChatMessage as it was, protobuf JSON mapping. */
  message: unknown;
  sender_id: string;
  reporter_id: string;
  reason: string;
  created_at: CreatedAt;
}

export type FilterActionName = 'refuse' | 'mask';

/** A live room's settings; see migration 0009. */
export interface LiveRoomSettingsTable {
  stream_id: string;
  slow_mode_s: number;
  word_filter: boolean;
  /** JSON array of strings. */
  blocked_terms: unknown;
  blocked_terms_action: FilterActionName;
  version: number;
  updated_by: string | null;
  updated_at: Generated<Date>;
}

/** blocker_id blocked blocked_id (private rooms); see migration 0010. */
export interface UserBlocksTable {
  blocker_id: string;
  blocked_id: string;
  created_at: CreatedAt;
}

export type SanctionKindName = 'timeout' | 'ban';

/** A user timed out or banned in a live room; see migration 0011. */
export interface RoomSanctionsTable {
  stream_id: string;
  user_id: string;
  kind: SanctionKindName;
  expires_at: Date | null;
  reason: string;
  moderator_id: string | null;
  created_at: CreatedAt;
}

/** A deleted message (tombstone); see migration 0012. */
export interface MessageDeletionsTable {
  room_kind: RoomKindName;
  room_id: string;
  seq: number;
  deleted_by: string;
  deleted_at: Date;
}

export interface Database {
  messages: MessagesTable;
  live_streams: LiveStreamsTable;
  live_stream_viewers: LiveStreamViewersTable;
  conversations: ConversationsTable;
  live_stream_pins: LiveStreamPinsTable;
  conversation_reads: ConversationReadsTable;
  live_stream_gifters: LiveStreamGiftersTable;
  room_sequences: RoomSequencesTable;
  room_epochs: RoomEpochsTable;
  persist_dead_letters: PersistDeadLettersTable;
  moderators: ModeratorsTable;
  staff: StaffTable;
  platform_bans: PlatformBansTable;
  moderation_actions: ModerationActionsTable;
  message_reports: MessageReportsTable;
  live_room_settings: LiveRoomSettingsTable;
  user_blocks: UserBlocksTable;
  room_sanctions: RoomSanctionsTable;
  message_deletions: MessageDeletionsTable;
}
