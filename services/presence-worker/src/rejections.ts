import { failureOf } from '@lomi/common';
import { ErrorCode, type ProtocolError } from '@lomi/protocol';
import type { PresenceContext } from './context';

/** The Error to answer a failed request with; counted by operation and code. */
export function createReject(ctx: PresenceContext) {
  return (op: string, err: unknown): ProtocolError => {
    const error = failureOf(err, ctx.log);
    ctx.metrics.rejected.inc({ op, code: ErrorCode[error.code] });
    return error;
  };
}
