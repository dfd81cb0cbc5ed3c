import { RequestError } from '@lomi/errors';
import { ErrorCode, internal } from '@lomi/protocol';
import { Histogram, Registry } from 'prom-client';
import { createDispatcher } from './dispatcher';
import { createApiDispatcher, createCommandDispatcher, createServiceDispatcher } from './endpoints';

const noAfterReply = () => {};
const fail = (_op: string, err: unknown) =>
  err instanceof RequestError ? { code: err.code, message: err.message } : { code: ErrorCode.ERROR_CODE_INTERNAL, message: 'internal error' };

test('the envelope decodes, answers and encodes; a failure becomes the reply that carries it', async () => {
  const seen: unknown[] = [];
  const handle = createDispatcher({
    request: internal.RangeRequest,
    reply: internal.RangeReply,
    answer: async (request) => {
      if (request.limit === 0) throw new RequestError(ErrorCode.ERROR_CODE_BAD_REQUEST, 'limit is required');
      return { topSeq: request.limit * 2 };
    },
    fail: (err, request) => ({ error: { code: ErrorCode.ERROR_CODE_BAD_REQUEST, message: `${(err as Error).message} (${request ? 'decoded' : 'undecodable'})` } }),
    observe: (reply, request, seconds) => seen.push([reply.error ? 'error' : 'ok', request?.limit, seconds >= 0]),
  });
  const ok = internal.RangeReply.decode(await handle(internal.RangeRequest.encode({ limit: 21 }).finish(), noAfterReply));
  expect(Number(ok.topSeq)).toBe(42);
  const refused = internal.RangeReply.decode(await handle(internal.RangeRequest.encode({ limit: 0 }).finish(), noAfterReply));
  expect(refused.error).toMatchObject({ message: 'limit is required (decoded)' });
  const garbage = internal.RangeReply.decode(await handle(new Uint8Array([0xff, 0xff, 0xff]), noAfterReply));
  expect(garbage.error?.message).toMatch(/^undecodable request: .* \(undecodable\)$/);
  expect(seen).toEqual([
    ['ok', 21, true],
    ['error', 0, true],
    ['error', undefined, true],
  ]);
});

test('an API route answers 200 with JSON; a refusal gets its HTTP status; an unknown route is 404', async () => {
  const handle = createApiDispatcher(
    {
      'live.viewers': async (request) => ({ id: request.params.id }),
      'live.secret': async () => {
        throw new RequestError(ErrorCode.ERROR_CODE_FORBIDDEN, 'not yours');
      },
    },
    fail,
  );
  const call = async (route: string, params: Record<string, string> = {}) =>
    internal.ApiReply.decode(await handle(internal.ApiRequest.encode({ route, params }).finish(), noAfterReply));
  expect(await call('live.viewers', { id: 's1' })).toMatchObject({ status: 200, json: '{"id":"s1"}' });
  expect(await call('live.secret')).toMatchObject({ status: 403, json: '{"error":{"code":"FORBIDDEN","message":"not yours"}}' });
  expect(await call('nope')).toMatchObject({ status: 404, json: '{"error":{"code":"NOT_FOUND","message":"no route nope"}}' });
  expect((await call('toString')).status).toBe(404);
  expect(await call('live.viewers', { id: 'a\u0000' })).toMatchObject({ status: 400 });
});

test('a service operation that fails carries the error, under its op', async () => {
  const ops: string[] = [];
  const handle = createServiceDispatcher(
    async () => {
      throw new TypeError('bug');
    },
    (op, err) => {
      ops.push(op);
      return fail(op, err);
    },
  );
  const reply = internal.ServiceReply.decode(await handle(internal.ServiceRequest.encode({ endLiveStream: { id: 's1' } }).finish(), noAfterReply));
  expect(reply.error).toMatchObject({ code: ErrorCode.ERROR_CODE_INTERNAL, message: 'internal error' });
  expect(ops).toEqual(['endLiveStream']);
});

test("a command's reply carries its request id, whether answered or refused, and is timed by outcome", async () => {
  const registry = new Registry();
  const seconds = new Histogram({ name: 'cmd_seconds', help: 'h', labelNames: ['command', 'outcome'] as const, registers: [registry] });
  const clients: unknown[] = [];
  const handle = createCommandDispatcher(
    async (request) => {
      if (request.frame?.ping) return { pong: {} };
      throw new RequestError(ErrorCode.ERROR_CODE_FORBIDDEN, 'no');
    },
    (op, err, client) => {
      clients.push([op, client]);
      return fail(op, err);
    },
    seconds,
  );
  const send = async (frame: object) =>
    internal.CommandReply.decode(await handle(internal.CommandRequest.encode({ connectionId: 'c1', userId: 'u1', frame }).finish(), noAfterReply)).frame!;
  expect(await send({ requestId: 7, ping: {} })).toMatchObject({ requestId: 7, pong: {} });
  expect(await send({ requestId: 8, leave: {} })).toMatchObject({ requestId: 8, error: { code: ErrorCode.ERROR_CODE_FORBIDDEN, message: 'no' } });
  expect(clients).toEqual([['leave', { connectionId: 'c1', userId: 'u1', requestId: 8 }]]);
  const counts = (await seconds.get()).values.filter((v) => v.metricName === 'cmd_seconds_count').map((v) => [v.labels.command, v.labels.outcome, v.value]);
  expect(counts).toEqual(
    expect.arrayContaining([
      ['ping', 'ok', 1],
      ['leave', 'error', 1],
    ]),
  );
});
