// The one envelope of every request a worker answers over the bus: decode the request, answer it,
// turn a failure into the reply that carries it, encode. Each endpoint only says how.
import { badRequest } from '@lomi/errors';

/**
 * Registers an action to run right after the reply is handed to NATS, in the same turn: what it
 * publishes leaves in the reply's write, behind the reply. It must not throw.
 */
export type AfterReply = (action: () => void) => void;

/** What a responder serves: the encoded reply to an encoded request; never throws. */
export type RequestHandler = (data: Uint8Array, afterReply: AfterReply) => Promise<Uint8Array>;

/** Decodes a request; bytes that are not one are the requester's mistake, not ours. */
function decodeRequest<T>(type: { decode(data: Uint8Array): T }, data: Uint8Array): T {
  try {
    return type.decode(data);
  } catch (err) {
    throw badRequest(`undecodable request: ${(err as Error).message}`);
  }
}

export interface Endpoint<Request, Reply> {
  /** The request's protobuf type. */
  request: { decode(data: Uint8Array): Request };
  /** The reply's protobuf type. */
  reply: { encode(message: Reply): { finish(): Uint8Array } };
  answer(request: Request, afterReply: AfterReply): Promise<Reply>;
  /** The reply carrying `err`; `request` is undefined when the bytes were not one. */
  fail(err: unknown, request: Request | undefined): Reply;
  /** Sees every reply before it is encoded, with the seconds it took (for a latency histogram). */
  observe?(reply: Reply, request: Request | undefined, seconds: number): void;
}

export function createDispatcher<Request, Reply>(endpoint: Endpoint<Request, Reply>): RequestHandler {
  return async (data, afterReply) => {
    const started = performance.now();
    let request: Request | undefined;
    let reply: Reply;
    try {
      request = decodeRequest(endpoint.request, data);
      reply = await endpoint.answer(request, afterReply);
    } catch (err) {
      reply = endpoint.fail(err, request);
    }
    endpoint.observe?.(reply, request, (performance.now() - started) / 1000);
    return endpoint.reply.encode(reply).finish();
  };
}
