// The gateway's only way to reach workers: NATS request/reply to their queue groups. Every
// failure to get an answer becomes an UNAVAILABLE error the client can retry on.
import { createInbox, type NatsConnection } from 'nats';
import { endOfTurn, isUnavailable, UnavailableError, type Subjects, type WorkerKind } from '@lomi/common';
import { ErrorCode, internal, type lomi } from '@lomi/protocol';

export interface WorkerClient {
  command(worker: WorkerKind, req: lomi.internal.v1.ICommandRequest): Promise<lomi.chat.v1.IServerFrame>;
  /** A batch of joins of one room; a worker that does not answer makes it an UNAVAILABLE reply. */
  joinBatch(req: lomi.internal.v1.IJoinBatchRequest): Promise<lomi.internal.v1.JoinBatchReply>;
  range(req: lomi.internal.v1.IRangeRequest): Promise<lomi.internal.v1.RangeReply>;
  /** A service API operation, to the workers that perform it. */
  service(worker: keyof Subjects['service'], req: lomi.internal.v1.IServiceRequest): Promise<lomi.internal.v1.ServiceReply>;
  /** A page of the platform-banned users, from the moderation workers. */
  bannedUsers(req: lomi.internal.v1.IBannedUsersRequest): Promise<lomi.internal.v1.BannedUsersReply>;
  api(worker: WorkerKind, req: lomi.internal.v1.IApiRequest): Promise<lomi.internal.v1.ApiReply>;
}

/** No worker answered a request: none subscribed, none in time, or NATS would not take it. */
export class WorkerUnavailableError extends UnavailableError {
  override name = 'WorkerUnavailableError';
}

type Pending = { subject: string; resolve: (data: Uint8Array) => void; reject: (err: Error) => void; deadline: number };

/**
 * Request/reply over one inbox subscription of our own, instead of nats.js's request(). That
 * one allocates a request object, a deferred, a timer and, on every success, an error with a
 * stack trace; a gateway makes thousands a second, and they live exactly as long as a request,
 * long enough for a busy fan-out's frequent scavenges to promote them: 38% of what a gateway's
 * code promoted at 500 msg/s (a sampling heap profile; a third less with this). Here a request
 * is a map entry and its promise, and one timer sweeps the expired ones.
 */
function createRequester(nc: NatsConnection, timeoutMs: number) {
  const inbox = createInbox();
  const pending = new Map<number, Pending>();
  let lastId = 0;
  const fail = (id: number, request: Pending, why: string, cause?: unknown) => {
    pending.delete(id);
    request.reject(new WorkerUnavailableError(`no answer on ${request.subject}: ${why}`, { cause }));
  };
  const subscription = nc.subscribe(`${inbox}.*`, {
    callback: (err, msg) => {
      if (err) return;
      const id = Number(msg.subject.slice(inbox.length + 1));
      const request = pending.get(id);
      if (!request) return; // answered after its timeout
      // NATS answers a request nobody is subscribed to with an empty 503: tell the client now.
      if (msg.data.length === 0 && msg.headers?.code === 503) return fail(id, request, 'no responders');
      pending.delete(id);
      request.resolve(msg.data);
    },
  });
  // Every request has the same timeout, so the map (in insertion order) is in deadline order.
  const sweep = setInterval(() => {
    const now = performance.now();
    for (const [id, request] of pending) {
      if (request.deadline > now) break;
      fail(id, request, `timeout after ${timeoutMs} ms`);
    }
  }, Math.min(1000, Math.max(10, timeoutMs / 10)));
  sweep.unref();
  void subscription.closed.then(() => {
    clearInterval(sweep);
    for (const [id, request] of pending) fail(id, request, 'connection closed');
  });
  return (subject: string, data: Uint8Array) =>
    new Promise<Uint8Array>((resolve, reject) => {
      const id = ++lastId;
      const request: Pending = { subject, resolve, reject, deadline: performance.now() + timeoutMs };
      pending.set(id, request);
      try {
        nc.publish(subject, data, { reply: `${inbox}.${id}` });
      } catch (err) {
        // A closed or draining connection means no worker can answer; anything else (a payload
        // over NATS' limit) is ours to fix.
        if (isUnavailable(err)) return fail(id, request, (err as Error).message, err);
        pending.delete(id);
        reject(err as Error);
      }
    });
}

export function createWorkerClient(nc: NatsConnection, subjects: Subjects, timeoutMs: number): WorkerClient {
  const send = createRequester(nc, timeoutMs);
  async function request(subject: string, data: Uint8Array): Promise<Uint8Array> {
    // uWS runs the microtask queue after every socket callback, and nats.js writes out what it
    // holds at the next microtask checkpoint: a request made straight from a client frame would
    // cost a write (a syscall) of its own. The requests of one event-loop turn — a connect
    // burst's joins, a busy room's sends — are made together at its end and leave in one write.
    await endOfTurn();
    return send(subject, data);
  }
  return {
    async command(worker, req) {
      try {
        const reply = internal.CommandReply.decode(
          await request(subjects.commands[worker], internal.CommandRequest.encode(req).finish()),
        );
        return { ...reply.frame, requestId: req.frame?.requestId ?? 0 };
      } catch (err) {
        if (!(err instanceof WorkerUnavailableError)) throw err;
        return {
          requestId: req.frame?.requestId ?? 0,
          error: { code: ErrorCode.ERROR_CODE_UNAVAILABLE, message: `the ${worker} service did not answer; retry` },
        };
      }
    },
    async joinBatch(req) {
      try {
        // Sent at once: batches are made at the end of a turn already (join-batches.ts).
        return internal.JoinBatchReply.decode(await send(subjects.joins, internal.JoinBatchRequest.encode(req).finish()));
      } catch (err) {
        if (!(err instanceof WorkerUnavailableError)) throw err;
        return internal.JoinBatchReply.create({ error: { code: ErrorCode.ERROR_CODE_UNAVAILABLE, message: 'the message service did not answer; retry' } });
      }
    },
    async range(req) {
      return internal.RangeReply.decode(await request(subjects.range, internal.RangeRequest.encode(req).finish()));
    },
    async service(worker, req) {
      return internal.ServiceReply.decode(await request(subjects.service[worker], internal.ServiceRequest.encode(req).finish()));
    },
    async bannedUsers(req) {
      return internal.BannedUsersReply.decode(await request(subjects.bannedUsers, internal.BannedUsersRequest.encode(req).finish()));
    },
    async api(worker, req) {
      return internal.ApiReply.decode(await request(subjects.api[worker], internal.ApiRequest.encode(req).finish()));
    },
  };
}
