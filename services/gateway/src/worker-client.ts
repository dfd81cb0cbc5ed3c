// The gateway's only way to reach workers: NATS request/reply to their queue groups. Every
// failure to get an answer becomes an UNAVAILABLE error the client can retry on.
import type { NatsConnection } from 'nats';
import { endOfTurn, type Subjects, type WorkerKind } from '@lomi/common';
import { ErrorCode, internal, type lomi } from '@lomi/protocol';

export interface WorkerClient {
  command(worker: WorkerKind, req: lomi.internal.v1.ICommandRequest): Promise<lomi.chat.v1.IServerFrame>;
  range(req: lomi.internal.v1.IRangeRequest): Promise<lomi.internal.v1.RangeReply>;
  service(req: lomi.internal.v1.IServiceRequest): Promise<lomi.internal.v1.ServiceReply>;
  api(worker: WorkerKind, req: lomi.internal.v1.IApiRequest): Promise<lomi.internal.v1.ApiReply>;
}

export class WorkerUnavailableError extends Error {}

export function createWorkerClient(nc: NatsConnection, subjects: Subjects, timeoutMs: number): WorkerClient {
  async function request(subject: string, data: Uint8Array): Promise<Uint8Array> {
    // uWS runs the microtask queue after every socket callback, and nats.js writes out what it
    // holds at the next microtask checkpoint: a request made straight from a client frame would
    // cost a write (a syscall) of its own. The requests of one event-loop turn — a connect
    // burst's joins, a busy room's sends — are made together at its end and leave in one write.
    await endOfTurn();
    try {
      const msg = await nc.request(subject, data, { timeout: timeoutMs });
      return msg.data;
    } catch (err) {
      throw new WorkerUnavailableError(`no answer on ${subject}: ${(err as Error).message}`);
    }
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
    async range(req) {
      return internal.RangeReply.decode(await request(subjects.range, internal.RangeRequest.encode(req).finish()));
    },
    async service(req) {
      return internal.ServiceReply.decode(await request(subjects.service, internal.ServiceRequest.encode(req).finish()));
    },
    async api(worker, req) {
      return internal.ApiReply.decode(await request(subjects.api[worker], internal.ApiRequest.encode(req).finish()));
    },
  };
}
