// Everything the web client asks of the Lomi Chat SDK (@lomi/client) and of the gateway's
// development routes goes through this file, so that a new SDK version is adapted here alone.
// The views (main.ts) see plain data: rooms by id, messages as ShownMessage.
import { LomiClient, MessageKind, RateLimitedError, Role, RoomKind, Sanction, UnavailableError, type ChatMessage, type lomi, type Room } from '@lomi/client';

export type ConnectionState = 'connected' | 'reconnecting' | 'closed';
export type RoomMode = 'private' | 'live';

/** A message as the views show it: stored (seq > 0) or still in the SDK's outbox (seq 0). */
export interface ShownMessage {
  roomId: string;
  seq: number;
  clientMsgId: string;
  senderId: string;
  kind: 'text' | 'gift' | 'system';
  text: string;
  gift?: { id: string; count: number };
  createdAtMs: number;
  /** Set when the send failed for good (refused, or not delivered in time). */
  failed?: string;
  /** Set on a tombstone: who deleted it (text and gift are gone). */
  deletedBy?: string;
}

/** What a moderator did to a user of a live room; `lifted` ends a timeout or ban. */
export type SanctionShown = 'timed out' | 'banned' | 'lifted';

export interface ShownPin {
  text: string;
  seq: number;
  pinnedBy: string;
}

/** A joined room as the views need it. */
export interface OpenRoom {
  mode: RoomMode;
  id: string;
  role: 'viewer' | 'moderator' | 'broadcaster' | 'staff' | 'member';
  /** Newest first page of history, in seq order. */
  messages: ShownMessage[];
  viewerCount: number;
  pin?: ShownPin;
  /** Private rooms: how far the other member has read and received. */
  otherReadSeq: number;
  otherDeliveredSeq: number;
}

export interface ChatEvents {
  /** A stored message, or an own message that left the outbox (acked: seq set) or failed. */
  message: (message: ShownMessage) => void;
  typing: (roomId: string, userId: string, typing: boolean) => void;
  receipt: (roomId: string, userId: string, readSeq: number, deliveredSeq: number) => void;
  viewers: (roomId: string, count: number) => void;
  pin: (roomId: string, pin: ShownPin | undefined) => void;
  roomClosed: (roomId: string, reason: string) => void;
  /** Messages of a room were deleted: show tombstones in their place. */
  deleted: (roomId: string, seqs: number[], deletedBy: string) => void;
  /** A user of a live room was timed out (until `untilMs`), banned, or let off. */
  sanctioned: (roomId: string, userId: string, what: SanctionShown, byUserId: string, untilMs: number) => void;
  state: (state: ConnectionState) => void;
  /** A command failed (shown to the user as a notice). */
  notice: (text: string) => void;
}

const ROLE_NAMES: Partial<Record<number, OpenRoom['role']>> = {
  [Role.ROLE_VIEWER]: 'viewer',
  [Role.ROLE_MODERATOR]: 'moderator',
  [Role.ROLE_BROADCASTER]: 'broadcaster',
  [Role.ROLE_STAFF]: 'staff',
  [Role.ROLE_MEMBER]: 'member',
};

const HISTORY_PAGE = 50;

function roomOf(mode: RoomMode, id: string): Room {
  return { kind: mode === 'live' ? RoomKind.ROOM_KIND_LIVE : RoomKind.ROOM_KIND_PRIVATE, id };
}

function shown(m: ChatMessage): ShownMessage {
  const kind = m.kind === MessageKind.MESSAGE_KIND_GIFT ? 'gift' : m.kind === MessageKind.MESSAGE_KIND_SYSTEM ? 'system' : 'text';
  return {
    roomId: m.room?.id ?? '',
    seq: Number(m.seq ?? 0),
    clientMsgId: m.clientMsgId ?? '',
    senderId: m.senderId ?? '',
    kind,
    text: m.content ?? '',
    gift: m.gift ? { id: m.gift.giftId ?? '', count: m.gift.count ?? 0 } : undefined,
    createdAtMs: Number(m.createdAtMs ?? 0),
    deletedBy: m.deletedBy || undefined,
  };
}

const SANCTIONS: Record<number, SanctionShown> = {
  [Sanction.SANCTION_TIMEOUT]: 'timed out',
  [Sanction.SANCTION_BAN]: 'banned',
  [Sanction.SANCTION_NONE]: 'lifted',
};

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function postJson(path: string, body: unknown, token?: string): Promise<Record<string, unknown>> {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown> & { error?: { message?: string } };
  if (!res.ok) throw new Error(json.error?.message ?? `${path}: HTTP ${res.status}`);
  return json;
}

/** A development token for `userId` from the gateway that served this page (DEV_TOKENS). */
async function devToken(userId: string): Promise<string> {
  return String((await postJson('/api/v1/dev/token', { userId })).token);
}

/** The SDK's send or sendGift with one clientMsgId. */
type Send = (options: { clientMsgId: string }) => Promise<lomi.chat.v1.ISendAck>;

/** One logged-in demo user: an SDK client connected to the gateway that served the page. */
export class ChatSession {
  private readonly listeners = new Map<keyof ChatEvents, Set<(...args: never[]) => void>>();
  private state: ConnectionState = 'connected';
  private token: string;

  private constructor(
    readonly userId: string,
    private readonly client: LomiClient,
    token: string,
  ) {
    this.token = token;
    client.on('message', (m) => this.emit('message', shown(m)));
    client.on('typing', (e) => e.userId !== userId && this.emit('typing', e.room?.id ?? '', e.userId ?? '', Boolean(e.typing)));
    client.on('receipt', (e) => this.emit('receipt', e.room?.id ?? '', e.userId ?? '', Number(e.readSeq ?? 0), Number(e.deliveredSeq ?? 0)));
    client.on('viewers', (e) => this.emit('viewers', e.room?.id ?? '', Number(e.count ?? 0)));
    client.on('pin', (e) => this.emit('pin', e.room?.id ?? '', e.pin ? ChatSession.pinOf(e.pin) : undefined));
    client.on('roomClosed', (e) => this.emit('roomClosed', e.room?.id ?? '', e.reason ?? ''));
    client.on('messageDeleted', (e) => this.emit('deleted', e.room?.id ?? '', (e.seqs ?? []).map(Number), e.deletedBy ?? ''));
    client.on('userSanctioned', (e) =>
      this.emit('sanctioned', e.room?.id ?? '', e.userId ?? '', SANCTIONS[e.sanction ?? 0] ?? 'lifted', e.moderatorId ?? '', Number(e.expiresAtMs ?? 0)),
    );
    client.on('reconnecting', () => this.setState('reconnecting'));
    client.on('reconnected', () => this.setState('connected'));
    client.on('roomLost', (room, err) => this.emit('notice', `left ${room.id}: ${describe(err)}`));
    client.on('close', (code, reason) => {
      this.setState('closed');
      this.emit('notice', `disconnected (${code} ${reason})`);
    });
  }

  static async login(userId: string): Promise<ChatSession> {
    const token = await devToken(userId);
    const url = location.origin.replace(/^http/, 'ws');
    let session: ChatSession | undefined;
    const client = await LomiClient.connect({
      url,
      token,
      // Called ahead of the token's expiry (sent in band) and after a 4401 (fails while offline: the SDK tries again).
      refreshToken: async () => {
        const fresh = await devToken(userId);
        if (session) session.token = fresh;
        return fresh;
      },
    });
    session = new ChatSession(userId, client, token);
    return session;
  }

  on<K extends keyof ChatEvents>(event: K, listener: ChatEvents[K]): void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
  }

  private emit<K extends keyof ChatEvents>(event: K, ...args: Parameters<ChatEvents[K]>): void {
    for (const l of this.listeners.get(event) ?? []) (l as (...a: unknown[]) => void)(...args);
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', state);
  }

  private static pinOf(pin: { message?: ChatMessage | null; pinnedBy?: string | null }): ShownPin {
    return { text: pin.message?.content ?? '', seq: Number(pin.message?.seq ?? 0), pinnedBy: pin.pinnedBy ?? '' };
  }

  /** Opens (creating if new) the private conversation with `peerId`. */
  async openConversation(peerId: string): Promise<OpenRoom> {
    const { id } = await postJson('/api/v1/dev/conversations', { peerId }, this.token);
    return this.join('private', String(id));
  }

  /** Starts a live stream of this user's; returns its room id. */
  async startLiveStream(): Promise<string> {
    return String((await postJson('/api/v1/dev/live', {}, this.token)).id);
  }

  async join(mode: RoomMode, id: string): Promise<OpenRoom> {
    const room = roomOf(mode, id);
    const joined = await this.client.join(room);
    const top = Number(joined.topSeq ?? 0);
    const page = top > 0 ? await this.client.history(room, { beforeSeq: top + 1, limit: HISTORY_PAGE }) : { messages: [] };
    return {
      mode,
      id,
      role: ROLE_NAMES[joined.role ?? 0] ?? 'viewer',
      messages: (page.messages ?? []).map((m) => ({ ...shown(m), roomId: id })),
      viewerCount: Number(joined.viewerCount ?? 0),
      pin: joined.pin ? ChatSession.pinOf(joined.pin) : undefined,
      otherReadSeq: Number(joined.readState?.otherReadSeq ?? 0),
      otherDeliveredSeq: Number(joined.readState?.otherDeliveredSeq ?? 0),
    };
  }

  async leave(mode: RoomMode, id: string): Promise<void> {
    await this.client.leave(roomOf(mode, id)).catch(() => undefined);
  }

  /** Sends a text; the returned message (seq 0) is reported again by `message` once stored or failed. */
  send(mode: RoomMode, roomId: string, text: string): ShownMessage {
    return this.enqueue(roomId, { kind: 'text', text }, (options) => this.client.send(roomOf(mode, roomId), text, options));
  }

  sendGift(mode: RoomMode, roomId: string, giftId: string, count = 1): ShownMessage {
    return this.enqueue(roomId, { kind: 'gift', text: '', gift: { id: giftId, count } }, (options) => this.client.sendGift(roomOf(mode, roomId), giftId, count, options));
  }

  /**
   * The SDK's outbox keeps a send across reconnects (resent with its clientMsgId, stored once);
   * a refusal that says "later" (rate limited, unavailable) is sent again here after the wait.
   */
  private enqueue(roomId: string, body: Pick<ShownMessage, 'kind' | 'text' | 'gift'>, send: Send): ShownMessage {
    const message: ShownMessage = { roomId, seq: 0, clientMsgId: crypto.randomUUID(), senderId: this.userId, createdAtMs: Date.now(), ...body };
    const attempt = async (): Promise<lomi.chat.v1.ISendAck> => {
      try {
        return await send({ clientMsgId: message.clientMsgId });
      } catch (err) {
        if (!(err instanceof RateLimitedError || err instanceof UnavailableError)) throw err;
        await new Promise((resolve) => setTimeout(resolve, Math.max(err.retryAfterMs, 500)));
        return attempt();
      }
    };
    attempt().then(
      (ack) => this.emit('message', { ...message, seq: Number(ack.seq), createdAtMs: Number(ack.createdAtMs ?? message.createdAtMs) }),
      (err: unknown) => this.emit('message', { ...message, failed: describe(err) }),
    );
    return message;
  }

  /** Private rooms: tells the other member this user is typing or stopped (the SDK sends at most one "typing" every 2 s). */
  typing(roomId: string, typing: boolean): void {
    this.client.typing(roomOf('private', roomId), typing).catch(() => undefined);
  }

  /** Private rooms: this user has received and read everything up to `seq`. */
  markRead(roomId: string, seq: number): void {
    const room = roomOf('private', roomId);
    this.client
      .markDelivered(room, seq)
      .then(() => this.client.markRead(room, seq))
      .catch(() => undefined);
  }

  /** Runs a moderation command, reporting a refusal as a notice. */
  private async command(what: string, run: () => Promise<void>): Promise<boolean> {
    try {
      await run();
      return true;
    } catch (err) {
      this.emit('notice', `${what}: ${describe(err)}`);
      return false;
    }
  }

  pinMessage(roomId: string, seq: number): Promise<boolean> {
    return this.command('pin', () => this.client.pin(roomOf('live', roomId), { seq }));
  }

  pinText(roomId: string, text: string): Promise<boolean> {
    return this.command('pin', () => this.client.pin(roomOf('live', roomId), { text }));
  }

  unpin(roomId: string): Promise<boolean> {
    return this.command('unpin', () => this.client.unpin(roomOf('live', roomId)));
  }

  grantModerator(roomId: string, userId: string): Promise<boolean> {
    return this.command('grant moderator', () => this.client.grantModerator(roomOf('live', roomId), userId));
  }

  report(mode: RoomMode, roomId: string, seq: number, reason: string): Promise<boolean> {
    return this.command('report', () => this.client.reportMessage(roomOf(mode, roomId), seq, reason));
  }

  /** Live rooms: the broadcaster, moderators and staff; private rooms: the sender, own messages. */
  deleteMessage(mode: RoomMode, roomId: string, seq: number): Promise<boolean> {
    return this.command('delete', () => this.client.deleteMessage(roomOf(mode, roomId), seq, 'deleted from the web client'));
  }

  timeoutUser(roomId: string, userId: string, durationS: number): Promise<boolean> {
    return this.command('timeout', () => this.client.timeoutUser(roomOf('live', roomId), userId, durationS, { reason: 'timed out from the web client' }));
  }

  banUser(roomId: string, userId: string): Promise<boolean> {
    return this.command('ban', () => this.client.banUser(roomOf('live', roomId), userId, { reason: 'banned from the web client' }));
  }

  /** Lifts a ban or a timeout. */
  unbanUser(roomId: string, userId: string): Promise<boolean> {
    return this.command('unban', () => this.client.unbanUser(roomOf('live', roomId), userId));
  }
}
