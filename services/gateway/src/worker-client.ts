// The gateway's only way to reach workers: request/reply over the bus to their queue groups.
// Every failure to get an answer becomes an UNAVAILABLE error the client can retry on.
import { NoResponderError, type Bus, type Subjects, type WorkerKind } from '@lomi/bus';
import { endOfTurn } from '@lomi/service-runtime';
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

export function createWorkerClient(bus: Bus, subjects: Subjects): WorkerClient {
  const send = (subject: string, data: Uint8Array) => bus.request(subject, data);
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
        const reply = internal.CommandReply.decode(await request(subjects.commands[worker], internal.CommandRequest.encode(req).finish()));
        return { ...reply.frame, requestId: req.frame?.requestId ?? 0 };
      } catch (err) {
        if (!(err instanceof NoResponderError)) throw err;
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
        if (!(err instanceof NoResponderError)) throw err;
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
