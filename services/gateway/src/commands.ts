// Handles one decoded client frame: join/leave are gateway-side membership plus a worker call,
// send/history go straight to the message workers, ping is answered here.
import type { WorkerKind } from '@lomi/bus';
import { errorCodeName, failureOf } from '@lomi/errors';
import type { Logger } from '@lomi/service-runtime';
import { ErrorCode, RoomKind, roomKey, type lomi, type ServerFrame } from '@lomi/protocol';
import { roomProblem } from '@lomi/validation';
import { AuthError, type Authenticator } from './auth';
import type { Connection } from './connection';
import type { JoinBatches } from './join-batches';
import type { ConnectionLimits } from './limits';
import type { GatewayMetrics } from './metrics';
import type { PresenceReporter } from './presence-reporter';
import type { RoomChannel } from './room-channel';
import type { RoomChannels } from './room-channels';
import type { TokenLifetime } from './token-lifetime';
import type { WorkerClient } from './worker-client';

export interface CommandDeps {
  gatewayId: string;
  channels: RoomChannels<Connection>;
  joins: JoinBatches;
  workers: WorkerClient;
  presence: PresenceReporter;
  metrics: GatewayMetrics;
  log: Logger;
  limits: Pick<ConnectionLimits, 'joinRefusal'>;
  /** Sends a frame to one socket (encodes in the socket's encoding, handles backpressure). */
  send(conn: Connection, frame: ServerFrame): void;
  authenticate: Authenticator;
  tokens: Pick<TokenLifetime, 'refreshed'>;
}

type Command = NonNullable<lomi.chat.v1.ClientFrame['command']>;

/** Which worker answers each forwarded command; join, leave and ping involve the gateway itself. */
const ROUTES: Record<Exclude<Command, 'join' | 'leave' | 'ping' | 'refresh'>, WorkerKind> = {
  send: 'message',
  history: 'message',
  markRead: 'message',
  markDelivered: 'message',
  listConversations: 'message',
  typing: 'presence',
  pin: 'moderation',
  unpin: 'moderation',
  grantModerator: 'moderation',
  revokeModerator: 'moderation',
  reportMessage: 'moderation',
  setRoomSettings: 'moderation',
  blockUser: 'moderation',
  unblockUser: 'moderation',
  deleteMessage: 'moderation',
  timeoutUser: 'moderation',
  banUser: 'moderation',
  unbanUser: 'moderation',
};

/** Commands that are not about one room. */
const ROOMLESS = new Set<Command>(['ping', 'refresh', 'listConversations', 'blockUser', 'unblockUser']);

export function errorFrame(requestId: number, code: ErrorCode, message: string): ServerFrame {
  return { requestId, error: { code, message } };
}

/**
 * The reply to a command that failed here: UNAVAILABLE when a worker or NATS did not answer,
 * INTERNAL (logged with its stack) for anything else, a bug.
 */
export function errorFrameFor(requestId: number, err: unknown, log: Logger): ServerFrame {
  return { requestId, error: failureOf(err, log) };
}

/**
 * A live room's chat is for those watching it: a send needs the room joined on this socket. Private
 * rooms need no join (a member answers from a notification); their membership is the check.
 */
function needsJoin(command: Command, room: lomi.chat.v1.IRoom): boolean {
  return command === 'send' && room.kind === RoomKind.ROOM_KIND_LIVE;
}

export type CommandHandler = ReturnType<typeof createCommandHandler>;

export function createCommandHandler(deps: CommandDeps) {
  const { channels, workers, metrics } = deps;

  /** The log of one client command: its connection, user and request id on every line. */
  function requestLog(conn: Connection, requestId: number, command: string): Logger {
    return deps.log.child({ connectionId: conn.id, userId: conn.userId, requestId, command });
  }

  async function forward(conn: Connection, frame: lomi.chat.v1.ClientFrame, worker: WorkerKind = 'message'): Promise<ServerFrame> {
    return workers.command(worker, { userId: conn.userId, gatewayId: deps.gatewayId, connectionId: conn.id, frame });
  }

  async function join(conn: Connection, frame: lomi.chat.v1.ClientFrame, join: lomi.chat.v1.IJoinRoom): Promise<ServerFrame | undefined> {
    const requestId = frame.requestId;
    const key = roomKey(join.room!);
    if (conn.joining.has(key)) return errorFrame(requestId, ErrorCode.ERROR_CODE_BAD_REQUEST, 'a join of this room is already in progress');
    const refusal = conn.rooms.has(key) ? undefined : deps.limits.joinRefusal(conn);
    if (refusal) return errorFrame(requestId, ErrorCode.ERROR_CODE_LIMIT_EXCEEDED, refusal.message);
    conn.joining.add(key);
    let channel: RoomChannel<Connection> | undefined;
    try {
      channel = await channels.ensure(join.room!, conn);
      const outcome = await deps.joins.join(channel.room, { userId: conn.userId, sinceSeq: join.sinceSeq, epoch: join.epoch ?? '' });
      if (conn.closed) return undefined;
      const joined = outcome.joined;
      if (!joined) return { requestId, error: outcome.error };
      channel.initialise(Number(joined.topSeq), joined.epoch ?? '', Number(joined.epochStartSeq));
      const sinceSeq = join.sinceSeq != null ? Number(join.sinceSeq) : undefined;
      const shard = channel.fanOut.shardFor(conn);
      const messages = sinceSeq !== undefined && joined.recovered ? await channel.catchUp(joined.messages ?? [], sinceSeq, shard) : [];
      if (conn.closed) return undefined;
      // From here to the subscribe nothing awaits: the reply ends exactly where the topic begins.
      deps.send(conn, {
        requestId,
        // The epoch is the one the socket's pushes continue: a reset this gateway has yet to put in
        // order (or already did) reaches the client as a room_reset push, or is behind it.
        joined: {
          ...joined,
          topSeq: channel.fanOut.edge(shard),
          epoch: channel.epoch,
          epochStartSeq: channel.epochStart,
          messages,
          recovered: joined.recovered && sinceSeq !== undefined,
        },
      });
      channel.fanOut.subscribe(conn, shard);
      // A repeated join of a joined room is not a second presence.
      if (!conn.rooms.has(key)) deps.presence.joined(conn, channel.room);
      conn.rooms.set(key, channel);
      conn.bannedFrom.delete(key);
      return undefined;
    } catch (err) {
      return errorFrameFor(requestId, err, requestLog(conn, requestId, 'join').child({ room: key }));
    } finally {
      conn.joining.delete(key);
      // A failed acquire has already closed its channel.
      if (channel && !conn.rooms.has(key)) channels.release(channel, conn);
    }
  }

  /** The in-band refresh: a valid token of the same user replaces the socket's, and its life with it. */
  function refresh(conn: Connection, requestId: number, token: string): ServerFrame {
    let expiresAt: number;
    try {
      const user = deps.authenticate(token);
      if (user.userId !== conn.userId) throw new AuthError("the token is of another user than this connection's");
      expiresAt = user.expiresAt;
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      return errorFrame(requestId, ErrorCode.ERROR_CODE_INVALID_TOKEN, `invalid token: ${err.message}`);
    }
    deps.tokens.refreshed(conn, expiresAt);
    return { requestId, ok: {} };
  }

  function leave(conn: Connection, requestId: number, room: lomi.chat.v1.IRoom): ServerFrame {
    const channel = conn.rooms.get(roomKey(room));
    if (!channel) return errorFrame(requestId, ErrorCode.ERROR_CODE_NOT_JOINED, 'not joined to this room');
    leaveChannel(conn, channel);
    return { requestId, left: { room } };
  }

  function leaveChannel(conn: Connection, channel: RoomChannel<Connection>): void {
    conn.rooms.delete(channel.key);
    deps.presence.left(conn, channel.room);
    channels.release(channel, conn);
  }

  return {
    /** Runs a command and sends its reply; never throws. */
    async handle(conn: Connection, frame: lomi.chat.v1.ClientFrame): Promise<void> {
      const command = frame.command ?? 'none';
      metrics.framesIn.inc({ command });
      const started = performance.now();
      let reply: ServerFrame | undefined;
      try {
        if (command === 'none') {
          reply = errorFrame(frame.requestId, ErrorCode.ERROR_CODE_BAD_REQUEST, 'frame carries no command');
        } else if (command === 'ping') {
          // request_id 0 is a keepalive that wants no answer.
          if (frame.requestId !== 0) reply = { requestId: frame.requestId, pong: { serverTimeMs: Date.now() } };
        } else {
          const room = ROOMLESS.has(command) ? undefined : (frame[command] as { room?: lomi.chat.v1.IRoom | null }).room;
          const problem = ROOMLESS.has(command) ? undefined : roomProblem(room);
          if (problem) reply = errorFrame(frame.requestId, ErrorCode.ERROR_CODE_BAD_REQUEST, problem);
          else if (command === 'join') reply = await join(conn, frame, frame.join!);
          else if (command === 'leave') reply = leave(conn, frame.requestId, room!);
          else if (needsJoin(command, room!) && !conn.rooms.has(roomKey(room!))) {
            reply = conn.bannedFrom.has(roomKey(room!))
              ? errorFrame(frame.requestId, ErrorCode.ERROR_CODE_BANNED, 'you are banned from this room')
              : errorFrame(frame.requestId, ErrorCode.ERROR_CODE_NOT_JOINED, 'join the live room before sending to it');
          } else if (command === 'refresh') reply = refresh(conn, frame.requestId, frame.refresh!.token ?? '');
          else reply = await forward(conn, frame, ROUTES[command]);
        }
      } catch (err) {
        reply = errorFrameFor(frame.requestId, err, requestLog(conn, frame.requestId, command));
      }
      metrics.commandSeconds.observe({ command, outcome: reply?.error ? 'error' : 'ok' }, (performance.now() - started) / 1000);
      metrics.commands.inc({ command, outcome: reply?.error ? errorCodeName(reply.error.code ?? 0) : 'ok' });
      if (reply && !conn.closed) deps.send(conn, reply);
    },

    /** Takes a socket out of a room its user was banned from (it has been told by the push). */
    banned(conn: Connection, channel: RoomChannel<Connection>): void {
      if (conn.rooms.get(channel.key) !== channel) return;
      leaveChannel(conn, channel);
      conn.bannedFrom.add(channel.key);
    },

    /** Drops every membership of a closed socket. */
    disconnect(conn: Connection): void {
      for (const channel of conn.rooms.values()) leaveChannel(conn, channel);
    },
  };
}
