// What a timeout or ban, the word filter, a live room's settings and the sender's role do to a send, decided once
// the sender is authorised and before anything is stored (append.ts runs it): the text is
// refused (BLOCKED_TERM) or masked by the block lists, and the limits the append script enforces
// are chosen — the rate limit for everyone but the broadcaster, slow mode for everyone but the
// broadcaster, moderators and staff. Settings and roles are read from this process's memory, so
// the common send costs no round trip of its own for them.
import { mayModerate, type ModerationState, type RoomSanctions, type RoomSettingsReader } from '@lomi/moderation';
import { MessageKind, type lomi, type Room } from '@lomi/protocol';
import type { WordFilter } from '@lomi/word-filter';
import type { RateLimit, SendLimits } from './append';
import type { WorkerContext } from './context';
import type { RoomFacts } from './rooms';
import { BlockedTermError, type WordFilters } from './word-filters';

export interface SendRuleParts {
  moderation: ModerationState;
  roomSettings: RoomSettingsReader;
  sanctions: RoomSanctions;
  filters: WordFilters;
}

export type SendRules = ReturnType<typeof createSendRules>;

export function createSendRules(ctx: WorkerContext, { moderation, roomSettings, sanctions, filters }: SendRuleParts) {
  const { metrics } = ctx;
  const liveLimit: RateLimit = { perSecond: ctx.config.LIVE_RATE_PER_S, burst: ctx.config.LIVE_RATE_BURST };

  /** Refuses a text with a refusing list's term, or masks the masking lists' terms in place. */
  function screen(message: lomi.chat.v1.ChatMessage, filter: WordFilter | undefined): void {
    if (!filter || message.kind !== MessageKind.MESSAGE_KIND_TEXT) return;
    const verdict = filter.check(message.content);
    if (verdict.action === 'pass') return;
    metrics.filtered.inc({ action: verdict.action });
    if (verdict.action === 'refuse') throw new BlockedTermError();
    message.content = verdict.text;
  }

  /** Screens `message` and returns its sender's limits in its room, whose facts the send was authorised against. */
  return async function admit(message: lomi.chat.v1.ChatMessage, facts: RoomFacts): Promise<SendLimits> {
    if (facts.kind !== 'live') {
      // Private rooms: a 1-on-1 room has a single reader, so no rate limit.
      screen(message, filters.private);
      return {};
    }
    const room = message.room as Room;
    const sender = message.senderId;
    await sanctions.assertMaySend(room, sender);
    const settings = await roomSettings.get(room);
    screen(message, filters.live(room, settings));
    const rate = facts.broadcasterId === sender ? undefined : liveLimit;
    if (!settings.slowModeS || facts.broadcasterId === sender) return { rate };
    const exempt = mayModerate(await moderation.roleOf(room, sender, facts));
    return { rate, slowModeMs: exempt ? 0 : settings.slowModeS * 1000 };
  };
}
