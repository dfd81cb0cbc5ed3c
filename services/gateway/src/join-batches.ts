// Joins reach the message workers per room, not per socket: the joins of one room that arrive in
// one event-loop turn, or while that room's previous batch is in flight, go to a worker as one
// JoinBatchRequest, and each joiner's JoinReply is cut from the batch's answer (the room's state
// once, the recovered messages after the joiner's since_seq). A gateway's viewers coming back at
// once are then a few dozen requests, each reading the room's state and recovery range once,
// instead of one request, one top read and one history read per socket.
import { failureOf } from '@lomi/errors';
import { endOfTurn, type Logger } from '@lomi/service-runtime';
import { ErrorCode, roomKey, type ChatMessage, type lomi, type Room } from '@lomi/protocol';
import type { GatewayMetrics } from './metrics';
import type { WorkerClient } from './worker-client';

/**
 * Joiners per request. A joiner takes its user id and some 25 bytes of a request, and a few
 * bytes of the reply, so a full batch stays far below NATS's 1 MB payload and leaves the reply's
 * room to the recovered messages; a larger burst goes out as several batches at once.
 */
const BATCH_MAX = 1000;

/** A joiner's answer: its JoinReply, or why it was refused. */
export type JoinOutcome = { joined: lomi.chat.v1.IJoinReply; error?: undefined } | { error: lomi.chat.v1.IError; joined?: undefined };

interface Waiting {
  joiner: lomi.internal.v1.IJoinBatchJoiner;
  resolve(outcome: JoinOutcome): void;
}

/** A room's joins: those waiting for the next batch, and how many batches are in flight. */
interface RoomJoins {
  room: Room;
  waiting: Waiting[];
  inFlight: number;
  scheduled: boolean;
}

export interface JoinBatchDeps {
  workers: WorkerClient;
  metrics: GatewayMetrics;
  log: Logger;
}

/** The batch's messages after `sinceSeq` (they are in seq order, ending at the room's top). */
function messagesAfter(messages: ChatMessage[], sinceSeq: number): ChatMessage[] {
  // Seqs may jump where a reset left a hole, so the first one after sinceSeq is searched for.
  let lo = 0;
  let hi = messages.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (Number(messages[mid]!.seq) <= sinceSeq) lo = mid + 1;
    else hi = mid;
  }
  return messages.slice(lo);
}

function outcomeOf(room: Room, reply: lomi.internal.v1.JoinBatchReply, index: number, joiner: lomi.internal.v1.IJoinBatchJoiner): JoinOutcome {
  if (reply.error) return { error: reply.error };
  const result = reply.results[index];
  if (!result) return { error: { code: ErrorCode.ERROR_CODE_INTERNAL, message: 'the join reply left this join out' } };
  if (result.error) return { error: result.error };
  return {
    joined: {
      room,
      topSeq: reply.topSeq,
      epoch: reply.epoch,
      epochStartSeq: reply.epochStartSeq,
      recovered: result.recovered,
      messages: result.recovered ? messagesAfter(reply.messages, Number(joiner.sinceSeq)) : [],
      pin: reply.pin,
      viewerCount: Number(result.viewerCount) > 0 ? result.viewerCount : reply.viewerCount,
      readState: result.readState,
      role: result.role,
      settings: reply.settings,
    },
  };
}

export type JoinBatches = ReturnType<typeof createJoinBatches>;

export function createJoinBatches(deps: JoinBatchDeps) {
  const { workers, metrics, log } = deps;
  const rooms = new Map<string, RoomJoins>();

  function schedule(key: string, entry: RoomJoins): void {
    entry.scheduled = true;
    void endOfTurn().then(() => send(key, entry));
  }

  function answer(entry: RoomJoins, batch: Waiting[], reply: lomi.internal.v1.JoinBatchReply): void {
    batch.forEach((w, i) => w.resolve(outcomeOf(entry.room, reply, i, w.joiner)));
  }

  function fail(entry: RoomJoins, batch: Waiting[], err: unknown): void {
    const error = failureOf(err, log.child({ room: roomKey(entry.room) }));
    for (const w of batch) w.resolve({ error });
  }

  function send(key: string, entry: RoomJoins): void {
    entry.scheduled = false;
    const waiting = entry.waiting;
    entry.waiting = [];
    for (let from = 0; from < waiting.length; from += BATCH_MAX) {
      const batch = waiting.slice(from, from + BATCH_MAX);
      entry.inFlight += 1;
      metrics.joinRequests.inc();
      void workers
        .joinBatch({ room: entry.room, joiners: batch.map((w) => w.joiner) })
        .then((reply) => answer(entry, batch, reply))
        // Whatever went wrong, every joiner is answered (a resolved one keeps its answer).
        .catch((err: unknown) => fail(entry, batch, err))
        .finally(() => {
          entry.inFlight -= 1;
          if (entry.inFlight > 0) return;
          // Joins that came while the batch was out go together in the next one.
          if (entry.waiting.length > 0) schedule(key, entry);
          else rooms.delete(key);
        });
    }
  }

  return {
    /** Joins `joiner` to `room` through the room's next batch. Never rejects. */
    join(room: Room, joiner: lomi.internal.v1.IJoinBatchJoiner): Promise<JoinOutcome> {
      const key = roomKey(room);
      let entry = rooms.get(key);
      if (!entry) rooms.set(key, (entry = { room, waiting: [], inFlight: 0, scheduled: false }));
      const joins = entry;
      return new Promise((resolve) => {
        joins.waiting.push({ joiner, resolve });
        if (!joins.scheduled && joins.inFlight === 0) schedule(key, joins);
      });
    },
  };
}
