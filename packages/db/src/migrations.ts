// Migrations as code, in the order they apply: the keys sort lexically, so they carry a
// zero-padded number. Never edit a migration that has shipped; add the next one.
import { sqlStateOf } from '@lomi/errors';
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

const migrations: Record<string, Migration> = {
  '0001_rooms_and_messages': {
    // Migrations see the database as it was then, not as schema.ts describes it now.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('messages')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('room_kind', 'text', (c) => c.notNull().check(sql`room_kind in ('live', 'private')`))
        .addColumn('room_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('sender_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('text', 'gift', 'system')`))
        .addColumn('content', 'text', (c) => c.notNull())
        .addColumn('client_msg_id', 'text')
        .addColumn('gift_id', 'text')
        .addColumn('gift_count', 'integer')
        .addColumn('gift_value', 'bigint')
        .addColumn('is_live', 'boolean', (c) => c.notNull())
        .addColumn('is_system', 'boolean', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull())
        // Also the index for "history of room R after seq S".
        .addUniqueConstraint('messages_room_seq_key', ['room_kind', 'room_id', 'seq'])
        .addUniqueConstraint('messages_room_sender_client_msg_key', ['room_kind', 'room_id', 'sender_id', 'client_msg_id'])
        .execute();

      await db.schema
        .createTable('live_streams')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('broadcaster_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('live', 'ended')`))
        .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('ended_at', 'timestamptz')
        .addColumn('peak_viewers', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('total_viewers', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('total_messages', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('gift_count', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('gift_value', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();

      await db.schema
        .createTable('live_stream_viewers')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('stream_id', 'text', (c) => c.notNull().references('live_streams.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('joined_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('left_at', 'timestamptz')
        .execute();
      await db.schema.createIndex('live_stream_viewers_stream_id_idx').on('live_stream_viewers').column('stream_id').execute();

      await db.schema
        .createTable('conversations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_a', 'text', (c) => c.notNull())
        .addColumn('user_b', 'text', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        // Byte order, whatever the database's collation, so the service can order a pair itself.
        .addCheckConstraint('conversations_ordered_pair', sql`user_a < user_b collate "C"`)
        // Leads with user_a, so it also serves "conversations of user X" on that side.
        .addUniqueConstraint('conversations_pair_key', ['user_a', 'user_b'])
        .execute();
      await db.schema.createIndex('conversations_user_b_idx').on('conversations').column('user_b').execute();
    },
  },
  '0002_viewing_sessions': {
    // A viewing session is identified by (stream, user, joined_at): presence workers write its
    // start and its end as two idempotent upserts on this key, so they may arrive in either
    // order (two workers) or twice (a retried batch) and still leave one correct row.
    async up(db: Kysely<unknown>) {
      await db.schema.createIndex('live_stream_viewers_session_key').on('live_stream_viewers').columns(['stream_id', 'user_id', 'joined_at']).unique().execute();
    },
  },
  '0003_pins_receipts_activity_gifters': {
    async up(db: Kysely<unknown>) {
      // One pin per live stream: the row is the pin; expired rows are deleted by the
      // moderation workers' sweep, which pushes the unpin.
      await db.schema
        .createTable('live_stream_pins')
        .addColumn('stream_id', 'text', (c) => c.primaryKey().references('live_streams.id').onDelete('cascade'))
        // The pinned ChatMessage in its protobuf JSON form (a pinned new text has seq 0).
        .addColumn('message', 'jsonb', (c) => c.notNull())
        .addColumn('pinned_by', 'text', (c) => c.notNull())
        .addColumn('pinned_at', 'timestamptz', (c) => c.notNull())
        .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('live_stream_pins_expires_at_idx').on('live_stream_pins').column('expires_at').execute();

      // Receipts per member per conversation; both seqs only ever move forward (GREATEST upserts).
      await db.schema
        .createTable('conversation_reads')
        .addColumn('conversation_id', 'text', (c) => c.notNull().references('conversations.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('read_seq', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('delivered_seq', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addPrimaryKeyConstraint('conversation_reads_pkey', ['conversation_id', 'user_id'])
        .execute();

      // The conversation list: newest activity first, per member. The persister moves both
      // columns forward in the transaction that stores the messages.
      await db.schema
        .alterTable('conversations')
        .addColumn('last_seq', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable('conversations')
        .addColumn('last_activity_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await sql`update conversations set last_activity_at = created_at`.execute(db);
      for (const side of ['user_a', 'user_b']) {
        await db.schema.createIndex(`conversations_${side}_activity_idx`).on('conversations').columns([side, 'last_activity_at desc', 'id desc']).execute();
      }

      // Per-stream gift totals by sender, for the top gifters; kept by the persister in the
      // transaction that stores the gifts, so each gift counts exactly once.
      await db.schema
        .createTable('live_stream_gifters')
        .addColumn('stream_id', 'text', (c) => c.notNull().references('live_streams.id').onDelete('cascade'))
        .addColumn('sender_id', 'text', (c) => c.notNull())
        .addColumn('gift_count', 'bigint', (c) => c.notNull())
        .addColumn('gift_value', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('live_stream_gifters_pkey', ['stream_id', 'sender_id'])
        .execute();
      await db.schema.createIndex('live_stream_gifters_top_idx').on('live_stream_gifters').columns(['stream_id', 'gift_value desc']).execute();
    },
  },
  '0004_room_sequences': {
    // Seqs are handed out by Redis from blocks reserved here first (hi/lo), so a Redis that lost
    // its state (restart without persistence, an AOF missing its last second, a failover) never
    // hands out a seq twice: the room goes on under a new epoch above everything ever reserved.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('room_sequences')
        .addColumn('room_kind', 'text', (c) => c.notNull().check(sql`room_kind in ('live', 'private')`))
        .addColumn('room_id', 'text', (c) => c.notNull())
        // Never '' once committed: '' marks a row that its creating transaction has yet to fill.
        .addColumn('epoch', 'text', (c) => c.notNull())
        .addColumn('epoch_base', 'bigint', (c) => c.notNull())
        // The highest seq Redis may ever hand out in this room.
        .addColumn('reserved_until', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addPrimaryKeyConstraint('room_sequences_pkey', ['room_kind', 'room_id'])
        .execute();
      // The chain of a room's epochs. An epoch's seqs are base_seq+1, base_seq+2, … without gaps;
      // (previous_last_seq, base_seq] is the hole its reset left, seqs that name no message.
      await db.schema
        .createTable('room_epochs')
        .addColumn('room_kind', 'text', (c) => c.notNull().check(sql`room_kind in ('live', 'private')`))
        .addColumn('room_id', 'text', (c) => c.notNull())
        .addColumn('epoch', 'text', (c) => c.notNull())
        .addColumn('base_seq', 'bigint', (c) => c.notNull())
        // '' for a room's first epoch.
        .addColumn('previous_epoch', 'text', (c) => c.notNull())
        .addColumn('previous_last_seq', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addPrimaryKeyConstraint('room_epochs_pkey', ['room_kind', 'room_id', 'epoch'])
        .execute();
      await db.schema.createIndex('room_epochs_room_base_idx').on('room_epochs').columns(['room_kind', 'room_id', 'base_seq']).execute();
    },
  },
  '0005_persist_dead_letters': {
    // Outbox entries Postgres refused as data (SQLSTATE class 22/23) or that could not become a
    // row: set aside by the persister so the room's later messages still reach Postgres, and
    // kept, raw, for inspection or a replay once the cause is fixed.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('persist_dead_letters')
        .addColumn('room_kind', 'text', (c) => c.notNull().check(sql`room_kind in ('live', 'private')`))
        .addColumn('room_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        // The outbox entry's encoded ChatMessage (without its seq, which is the entry id), as stored in Redis.
        .addColumn('entry', 'bytea', (c) => c.notNull())
        .addColumn('error', 'text', (c) => c.notNull())
        // Postgres' error code when Postgres refused the row; null when it never got that far.
        .addColumn('sqlstate', 'text')
        .addColumn('failed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        // A dead letter recorded again (its outbox entry not yet deleted) stays one row.
        .addPrimaryKeyConstraint('persist_dead_letters_pkey', ['room_kind', 'room_id', 'seq'])
        .execute();
    },
  },
  '0006_moderation': {
    // The moderation workers' record: who moderates what, the platform's staff and bans, every
    // moderation action, and the messages users reported. Cached in Redis and in each reader's
    // memory (@lomi/moderation); this is what survives.
    async up(db: Kysely<unknown>) {
      // A moderator of one stream (scope 'stream', scope_id = the stream id) or of every stream of
      // a broadcaster (scope 'channel', scope_id = the broadcaster's user id).
      await db.schema
        .createTable('moderators')
        .addColumn('scope', 'text', (c) => c.notNull().check(sql`scope in ('stream', 'channel')`))
        .addColumn('scope_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('granted_by', 'text')
        .addColumn('granted_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addPrimaryKeyConstraint('moderators_pkey', ['scope', 'scope_id', 'user_id'])
        .execute();

      await db.schema
        .createTable('staff')
        .addColumn('user_id', 'text', (c) => c.primaryKey())
        .addColumn('granted_by', 'text')
        .addColumn('granted_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();

      await db.schema
        .createTable('platform_bans')
        .addColumn('user_id', 'text', (c) => c.primaryKey())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('banned_by', 'text')
        .addColumn('banned_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();

      // Versions of the cached moderation state and of ban events: taken while a change holds its
      // scope's lock, so one scope's versions increase in commit order.
      await sql`create sequence moderation_versions`.execute(db);

      // The audit log: one row per moderation action, appended by the moderation workers only.
      await db.schema
        .createTable('moderation_actions')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        // null: the app back end through the service API, without naming who.
        .addColumn('actor_id', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target_user_id', 'text')
        // The room the action was taken in; null for platform-wide ones (staff, platform bans).
        .addColumn('room_kind', 'text', (c) => c.check(sql`room_kind in ('live', 'private')`))
        .addColumn('room_id', 'text')
        // Set when the action covers a broadcaster's whole channel (a channel moderator grant).
        .addColumn('channel_id', 'text')
        .addColumn('message_seq', 'bigint')
        .addColumn('reason', 'text')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('expires_at', 'timestamptz')
        .execute();
      await db.schema.createIndex('moderation_actions_room_idx').on('moderation_actions').columns(['room_id', 'id desc']).execute();
      await db.schema.createIndex('moderation_actions_channel_idx').on('moderation_actions').columns(['channel_id', 'id desc']).execute();

      // Reports keep the message as it was (protobuf JSON of the ChatMessage), whatever becomes of it.
      await db.schema
        .createTable('message_reports')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('room_kind', 'text', (c) => c.notNull().check(sql`room_kind in ('live', 'private')`))
        .addColumn('room_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('message', 'jsonb', (c) => c.notNull())
        .addColumn('sender_id', 'text', (c) => c.notNull())
        .addColumn('reporter_id', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        // One report per message per reporter: a repeat is not a second voice.
        .addUniqueConstraint('message_reports_once_key', ['room_kind', 'room_id', 'seq', 'reporter_id'])
        .execute();
      await db.schema.createIndex('message_reports_room_idx').on('message_reports').columns(['room_kind', 'room_id', 'id desc']).execute();
    },
  },
  '0009_room_settings': {
    // A live room's settings (slow mode, word filter, the room's own block list), written by the
    // moderation workers; cached in Redis and in the message workers' memory. A room without a
    // row has the defaults. `version` comes from moderation_versions, so caches keep the newest.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('live_room_settings')
        .addColumn('stream_id', 'text', (c) => c.primaryKey().references('live_streams.id').onDelete('cascade'))
        .addColumn('slow_mode_s', 'integer', (c) =>
          c
            .notNull()
            .defaultTo(0)
            .check(sql`slow_mode_s between 0 and 120`),
        )
        .addColumn('word_filter', 'boolean', (c) => c.notNull().defaultTo(true))
        // A JSON array of the terms as the moderators gave them.
        .addColumn('blocked_terms', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
        .addColumn('blocked_terms_action', 'text', (c) =>
          c
            .notNull()
            .defaultTo('refuse')
            .check(sql`blocked_terms_action in ('refuse', 'mask')`),
        )
        .addColumn('version', 'bigint', (c) => c.notNull())
        .addColumn('updated_by', 'text')
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
    },
  },
  '0010_user_blocks': {
    // Users blocking users (private rooms). Read into a conversation's cached facts, so the send
    // path sees a block without a query of its own; the key also serves "whom did X block".
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('user_blocks')
        .addColumn('blocker_id', 'text', (c) => c.notNull())
        .addColumn('blocked_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addPrimaryKeyConstraint('user_blocks_pkey', ['blocker_id', 'blocked_id'])
        .execute();
    },
  },
  '0011_room_sanctions': {
    // Timeouts and bans of users in live rooms, written by the moderation workers (one row per
    // stream and user: a later sanction replaces an earlier one, unbanning deletes it); cached in
    // Redis and in the message workers' memory. `version` comes from moderation_versions.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('room_sanctions')
        .addColumn('stream_id', 'text', (c) => c.notNull().references('live_streams.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('timeout', 'ban')`))
        // A timeout's end; null for a ban.
        .addColumn('expires_at', 'timestamptz')
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('moderator_id', 'text')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addPrimaryKeyConstraint('room_sanctions_pkey', ['stream_id', 'user_id'])
        .execute();
    },
  },
  '0012_message_deletions': {
    // Deleted messages (tombstones), written by the message workers. Kept apart from `messages`
    // so a deletion holds even for a message the persister has not written yet.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('message_deletions')
        .addColumn('room_kind', 'text', (c) => c.notNull().check(sql`room_kind in ('live', 'private')`))
        .addColumn('room_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('deleted_by', 'text', (c) => c.notNull())
        .addColumn('deleted_at', 'timestamptz', (c) => c.notNull())
        .addPrimaryKeyConstraint('message_deletions_pkey', ['room_kind', 'room_id', 'seq'])
        .execute();
    },
  },
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

// Before it migrates, kysely's Migrator looks for its own tables by listing every table of the
// database by name; a schema another deployment drops meanwhile (test systems stop all the time on
// a shared database) fails that listing with 3F000 "schema … does not exist" or 42P01 "relation
// … does not exist". Nothing has been migrated then, so it is tried again.
const LISTING_ATTEMPTS = 5;
const DROPPED_MEANWHILE = new Set(['3F000', '42P01']);

/**
 * Applies every pending migration to `schema` (created if missing), the schema `db`'s sessions
 * use (createDb). Safe when several processes start at once: the Migrator holds a Postgres
 * advisory lock while it migrates. Returns the names it applied.
 */
export async function migrateToLatest<DB>(db: Kysely<DB>, schema: string): Promise<string[]> {
  // The Migrator creates the schema (tolerating a concurrent create) and keeps its own tables
  // there; the migrations' unqualified tables land there through the session's search_path.
  const migrator = new Migrator({ db, provider, allowUnorderedMigrations: true, migrationTableSchema: schema });
  for (let attempt = 1; ; attempt++) {
    const { error, results = [] } = await migrator.migrateToLatest();
    if (!error) return results.map((r) => r.migrationName);
    const failed = results.find((r) => r.status === 'Error')?.migrationName;
    const anotherSchemaDropped = !failed && DROPPED_MEANWHILE.has(sqlStateOf(error) ?? '') && !(error as Error).message.includes(schema);
    if (anotherSchemaDropped && attempt < LISTING_ATTEMPTS) continue;
    throw new Error(`migration ${failed ?? '(before any migration ran)'} failed: ${(error as Error).message}`, { cause: error });
  }
}
