// The client's side of keepalive: a Ping every `intervalMs`; no reply within `timeoutMs` means
// the connection is dead even though no close arrived (a NAT or proxy dropped it silently), so
// it is given up and replaced within intervalMs + timeoutMs.

export interface HeartbeatOptions {
  intervalMs: number;
  timeoutMs: number;
}

export class Heartbeat {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(
    private readonly options: HeartbeatOptions,
    /** Sends a Ping with a request id and resolves when its Pong arrives. */
    private readonly ping: (timeoutMs: number) => Promise<unknown>,
    /** Called once when a Ping goes unanswered. */
    private readonly onDead: (reason: string) => void,
  ) {}

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.ping(this.options.timeoutMs).then(
        () => this.schedule(),
        () => {
          if (this.stopped) return;
          this.stop();
          this.onDead(`no pong within ${this.options.timeoutMs} ms`);
        },
      );
    }, this.options.intervalMs);
  }
}
