// The word filter on the send path: the deployment's list (WORD_FILTER_FILE, compiled once at
// start) and each live room's own list, compiled once per version of the room's settings and
// kept per room, so a message is matched against ready automatons, never a loop over terms.
// The deployment's list applies in private rooms too (they have no settings), and in every live
// room whose word filter is on.
import { RequestError } from '@lomi/errors';
import type { RoomSettings } from '@lomi/moderation';
import { ErrorCode, FilterAction, roomKey, type Room } from '@lomi/protocol';
import { compileWordList, WordFilter } from '@lomi/word-filter';
import { DEPLOYMENT_TERMS_MAX, type MessageWorkerConfig } from './config';

/** Rooms whose compiled list a worker keeps; the oldest compiled goes first. */
const ROOMS_MAX = 10_000;

/** The message holds a term of a refusing list; nothing was stored. */
export class BlockedTermError extends RequestError {
  override name = 'BlockedTermError';
  constructor() {
    super(ErrorCode.ERROR_CODE_BLOCKED_TERM, 'the message contains a blocked term');
  }
}

export type WordFilters = ReturnType<typeof createWordFilters>;

export function createWordFilters(config: Pick<MessageWorkerConfig, 'WORD_FILTER_FILE' | 'WORD_FILTER_ACTION'>) {
  const terms = config.WORD_FILTER_FILE;
  const deployment = terms.length ? [compileWordList(terms, { action: config.WORD_FILTER_ACTION, maxTerms: DEPLOYMENT_TERMS_MAX })] : [];
  const deploymentOnly = new WordFilter(deployment);
  const rooms = new Map<string, { version: number; filter: WordFilter }>();

  return {
    /** The filter of a private room: the deployment's list. */
    private: deploymentOnly,

    /** The filter of a live room with these settings; undefined when its word filter is off. */
    live(room: Room, settings: RoomSettings): WordFilter | undefined {
      if (!settings.wordFilter) return undefined;
      if (settings.blockedTerms.length === 0) return deploymentOnly;
      const key = roomKey(room);
      const version = Number(settings.version);
      const held = rooms.get(key);
      if (held?.version === version) return held.filter;
      const action = settings.blockedTermsAction === FilterAction.FILTER_ACTION_MASK ? 'mask' : 'refuse';
      const filter = new WordFilter([...deployment, compileWordList(settings.blockedTerms, { action })]);
      rooms.delete(key);
      if (rooms.size >= ROOMS_MAX) rooms.delete(rooms.keys().next().value!);
      rooms.set(key, { version, filter });
      return filter;
    },
  };
}
