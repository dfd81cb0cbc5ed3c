// Live room settings: the moderation workers' writes (SetRoomSettings from the broadcaster,
// moderators and staff, and the service API). A change runs in one transaction that holds the
// room's settings lock: the new settings at a new version, and its moderation log entry. Then the
// Redis cache takes them (an older version never replaces a newer one), every message worker gets
// them in a RoomSettingsChanged event, and the room's sockets in a RoomSettingsUpdate push.
import { badRequest } from '@lomi/errors';
import { storableText } from '@lomi/validation';
import type { Database, Kysely } from '@lomi/db';
import { loadRoomSettings, publicSettings, type RoomSettings } from '@lomi/moderation';
import { chat, FilterAction, internal, type lomi, type Room } from '@lomi/protocol';
import { compileWordList, WordListError } from '@lomi/word-filter';
import type { ModerationContext } from './context';
import { lockedVersion } from './versions';

export const SLOW_MODE_MAX_S = 120;

/** The changes a SetRoomSettings asks for, checked; undefined fields stay as they are. */
interface Patch {
  slowModeS?: number;
  wordFilter?: boolean;
  blockedTerms?: string[];
  blockedTermsAction?: FilterAction;
}

export type RoomSettingsWriter = ReturnType<typeof createRoomSettingsWriter>;

export function createRoomSettingsWriter(ctx: ModerationContext) {
  const { db, bus, subjects, config, audit, roomSettings } = ctx;

  /** Refuses the whole change (BAD_REQUEST naming the field) unless every field is valid. */
  function validate(cmd: lomi.chat.v1.ISetRoomSettings): Patch {
    const patch: Patch = {};
    if (cmd.slowModeS != null) {
      if (!Number.isInteger(cmd.slowModeS) || cmd.slowModeS < 0 || cmd.slowModeS > SLOW_MODE_MAX_S) {
        throw badRequest(`slow_mode_s must be 0 (off) to ${SLOW_MODE_MAX_S} seconds`);
      }
      patch.slowModeS = cmd.slowModeS;
    }
    if (cmd.wordFilter != null) patch.wordFilter = cmd.wordFilter;
    if (cmd.blockedTermsAction != null) {
      if (!Object.values(FilterAction).includes(cmd.blockedTermsAction)) throw badRequest('blocked_terms_action must be REFUSE or MASK');
      patch.blockedTermsAction = cmd.blockedTermsAction === FilterAction.FILTER_ACTION_MASK ? FilterAction.FILTER_ACTION_MASK : FilterAction.FILTER_ACTION_REFUSE;
    }
    if (cmd.blockedTerms != null) {
      const given = cmd.blockedTerms.terms ?? [];
      if (given.length > config.ROOM_WORD_LIST_MAX) throw badRequest(`blocked_terms holds at most ${config.ROOM_WORD_LIST_MAX} terms, got ${given.length}`);
      const terms = [...new Set(given.map((t, i) => storableText(`blocked_terms[${i}]`, t).trim()))];
      try {
        // Compiled here only to refuse what the message workers could not compile.
        compileWordList(terms, { action: 'refuse', maxTerms: config.ROOM_WORD_LIST_MAX });
      } catch (err) {
        if (err instanceof WordListError) throw badRequest(`blocked_terms: ${err.message}`);
        throw err;
      }
      patch.blockedTerms = terms;
    }
    return patch;
  }

  function merged(current: RoomSettings, patch: Patch, version: number): RoomSettings {
    const terms = patch.blockedTerms ?? current.blockedTerms;
    return chat.RoomSettings.create({
      slowModeS: patch.slowModeS ?? current.slowModeS,
      wordFilter: patch.wordFilter ?? current.wordFilter,
      blockedTermsAction: patch.blockedTermsAction ?? current.blockedTermsAction,
      blockedTermsCount: terms.length,
      blockedTerms: terms,
      version,
    });
  }

  const same = (a: RoomSettings, b: RoomSettings) =>
    a.slowModeS === b.slowModeS &&
    a.wordFilter === b.wordFilter &&
    a.blockedTermsAction === b.blockedTermsAction &&
    a.blockedTerms.length === b.blockedTerms.length &&
    a.blockedTerms.every((t, i) => t === b.blockedTerms[i]);

  /** The moderation log's words for a change. */
  function describe(s: RoomSettings): string {
    const action = s.blockedTermsAction === FilterAction.FILTER_ACTION_MASK ? 'mask' : 'refuse';
    return `slow mode ${s.slowModeS ? `${s.slowModeS} s` : 'off'}; word filter ${s.wordFilter ? 'on' : 'off'}; room list ${s.blockedTermsCount} terms (${action})`;
  }

  async function store(trx: Kysely<Database>, room: Room, s: RoomSettings, actorId: string | undefined): Promise<void> {
    const row = {
      stream_id: room.id ?? '',
      slow_mode_s: s.slowModeS,
      word_filter: s.wordFilter,
      blocked_terms: JSON.stringify(s.blockedTerms),
      blocked_terms_action: s.blockedTermsAction === FilterAction.FILTER_ACTION_MASK ? ('mask' as const) : ('refuse' as const),
      version: Number(s.version),
      updated_by: actorId ?? null,
    };
    await trx
      .insertInto('live_room_settings')
      .values(row)
      .onConflict((oc) => oc.column('stream_id').doUpdateSet({ ...row, updated_at: new Date() }))
      .execute();
  }

  return {
    /**
     * Applies `cmd` to the live room (already authorised) and returns the settings as they now
     * are; with no field set, the current ones. `actorId` undefined: the app back end.
     */
    async change(room: Room, cmd: lomi.chat.v1.ISetRoomSettings, actorId: string | undefined): Promise<RoomSettings> {
      const patch = validate(cmd);
      if (Object.keys(patch).length === 0) return roomSettings.cache.read(room);
      const { settings, changed } = await db.transaction().execute(async (trx) => {
        const version = await lockedVersion(trx, config.LOMI_NAMESPACE, `settings.${room.id}`);
        const current = await loadRoomSettings(trx, room);
        const next = merged(current, patch, version);
        if (same(current, next)) return { settings: current, changed: false };
        await store(trx, room, next, actorId);
        await audit.record({ action: 'room_settings', actorId, room, reason: describe(next) }, trx);
        return { settings: next, changed: true };
      });
      await roomSettings.cache.write(room, settings);
      roomSettings.apply(room, settings);
      // Also when nothing changed: a retry reaches the workers that missed the first event.
      bus.publish(subjects.events.roomSettingsChanged, internal.RoomSettingsChanged.encode({ room, settings }).finish());
      if (changed) {
        const update = { room, settings: publicSettings(settings) };
        bus.publish(subjects.room(room), internal.RoomEvent.encode({ roomSettings: update }).finish());
      }
      return settings;
    },
  };
}
