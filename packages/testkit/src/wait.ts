import { ErrorCode } from '@lomi/protocol';

/** Resolves when `predicate` holds, polling; rejects with `what` after `timeoutMs`. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Runs `attempt` until it resolves; a failure `retryable` lets through is tried again until `ms` have passed. */
async function retrying<T>(attempt: () => Promise<T>, ms: number, retryable: (err: unknown) => boolean, pauseMs: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (!retryable(err) || Date.now() > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, pauseMs));
  }
}

/**
 * Runs `attempt` until it resolves, for at most `ms` (a change reaching every gateway and worker);
 * resolves with its value, or rejects with its last failure.
 */
export function within<T>(ms: number, attempt: () => Promise<T>): Promise<T> {
  return retrying(attempt, ms, () => true, 20);
}

/**
 * Runs `attempt` again while it is answered UNAVAILABLE, as the protocol tells a client to (a
 * send retried with its client_msg_id is stored once); any other failure, or UNAVAILABLE still
 * after `ms`, rejects.
 */
export function retryingUnavailable<T>(attempt: () => Promise<T>, ms = 30_000): Promise<T> {
  return retrying(attempt, ms, (err) => (err as { code?: unknown }).code === ErrorCode.ERROR_CODE_UNAVAILABLE, 50);
}
