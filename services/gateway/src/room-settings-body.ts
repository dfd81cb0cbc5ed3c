// The body of POST /api/v1/live/:id/settings (JSON, snake_case or lowerCamel names, as the proto3
// JSON mapping reads them) as the SetRoomSettings the moderation workers apply: fields left out
// stay as they are. Wrong JSON types are refused here; values out of range by the worker.
import { badRequest } from '@lomi/errors';
import { FilterAction, type lomi } from '@lomi/protocol';

const UINT32_MAX = 2 ** 32 - 1;

function filterAction(value: unknown): FilterAction {
  if (typeof value === 'number' && Object.values(FilterAction).includes(value)) return value;
  if (typeof value === 'string' && Object.hasOwn(FilterAction, value)) return FilterAction[value as keyof typeof FilterAction];
  throw badRequest('blocked_terms_action must be FILTER_ACTION_REFUSE or FILTER_ACTION_MASK');
}

/** `body` with its keys already lowerCamel. */
export function roomSettingsPatch(body: Record<string, unknown>): lomi.chat.v1.ISetRoomSettings {
  const patch: lomi.chat.v1.ISetRoomSettings = {};
  const { slowModeS, wordFilter, blockedTerms, blockedTermsAction } = body;
  if (slowModeS !== undefined) {
    if (!Number.isInteger(slowModeS) || (slowModeS as number) < 0 || (slowModeS as number) > UINT32_MAX) {
      throw badRequest('slow_mode_s must be a whole number of seconds');
    }
    patch.slowModeS = slowModeS as number;
  }
  if (wordFilter !== undefined) {
    if (typeof wordFilter !== 'boolean') throw badRequest('word_filter must be true or false');
    patch.wordFilter = wordFilter;
  }
  if (blockedTerms !== undefined) {
    if (!Array.isArray(blockedTerms) || !blockedTerms.every((t) => typeof t === 'string')) throw badRequest('blocked_terms must be an array of strings');
    patch.blockedTerms = { terms: blockedTerms };
  }
  if (blockedTermsAction !== undefined) patch.blockedTermsAction = filterAction(blockedTermsAction);
  return patch;
}
