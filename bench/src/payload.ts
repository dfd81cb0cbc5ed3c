// The text every chatter sends, identical for all three servers: "<scenario>|<sent µs>|<chatter>|<n>|xxx…",
// padded to a fixed size. Scenario ids keep a late delivery from a previous scenario out of the
// current one's figures; the send time, on the clock every process on this machine shares, gives
// end-to-end latency without a lookup per delivery.
export const MESSAGE_BYTES = 100;
const PIPE = 0x7c;
const ZERO = 0x30;

/** Microseconds on a clock comparable across processes on one machine. */
export function nowUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

export function messageText(scenario: number, chatter: number, n: number, sentAtUs: number): string {
  const head = `${scenario}|${sentAtUs}|${chatter}|${n}|`;
  return head.padEnd(MESSAGE_BYTES, 'x');
}

/**
 * Reads the scenario and send time at `start` of `buf` without allocating. Returns the send time,
 * or -1 when the text belongs to another scenario or is not a bench message.
 */
export function sentAtUs(buf: Uint8Array, start: number, end: number, scenario: number): number {
  let i = start;
  let value = 0;
  while (i < end && buf[i] !== PIPE) value = value * 10 + buf[i++]! - ZERO;
  if (value !== scenario || i >= end) return -1;
  i += 1;
  value = 0;
  while (i < end && buf[i] !== PIPE) value = value * 10 + buf[i++]! - ZERO;
  return i < end ? value : -1;
}
