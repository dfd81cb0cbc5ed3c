// Helpers for the processes the orchestrator forks with an IPC channel (baselines, generators).

/** Exits when the orchestrator goes away, even if it was killed and could not stop us. */
export function exitWithParent(onExit: () => void = () => undefined): void {
  const stop = () => {
    onExit();
    process.exit(0);
  };
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

export function tellParent(message: object): void {
  if (!process.send) throw new Error('this process must be started by the bench orchestrator (no IPC channel)');
  process.send(message);
}
