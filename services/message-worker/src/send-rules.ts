// What a live room's settings and the sender's role do to a send, decided once the sender is
// authorised and before anything is stored (append.ts runs it): the limits the append script
// enforces — the rate limit for everyone but the broadcaster, slow mode for everyone but the
// broadcaster, moderators and staff. The room's settings and the roles are read from this
// process's memory, so the common send costs no round trip of its own for them.
import { mayModerate, type ModerationState, type RoomSettingsReader } from '@lomi/moderation';
import type { lomi, Room } from '@lomi/protocol';
import type { RateLimit, SendLimits } from './append';
import type { WorkerContext } from './context';
import type { RoomFacts } from './rooms';

export interface SendRuleParts {
  moderation: ModerationState;
  roomSettings: RoomSettingsReader;
}

export type SendRules = ReturnType<typeof createSendRules>;

export function createSendRules(ctx: WorkerContext, { moderation, roomSettings }: SendRuleParts) {
  const liveLimit: RateLimit = { perSecond: ctx.config.LIVE_RATE_PER_S, burst: ctx.config.LIVE_RATE_BURST };

  /** The limits of `message`'s sender in its room, whose facts the send was authorised against. */
  return async function admit(message: lomi.chat.v1.ChatMessage, facts: RoomFacts): Promise<SendLimits> {
    // Private rooms: a 1-on-1 room has a single reader.
    if (facts.kind !== 'live') return {};
    const room = message.room as Room;
    const sender = message.senderId;
    const settings = await roomSettings.get(room);
    const rate = facts.broadcasterId === sender ? undefined : liveLimit;
    if (!settings.slowModeS || facts.broadcasterId === sender) return { rate };
    const exempt = mayModerate(await moderation.roleOf(room, sender, facts));
    return { rate, slowModeMs: exempt ? 0 : settings.slowModeS * 1000 };
  };
}
