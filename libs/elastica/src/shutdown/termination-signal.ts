/**
 * Whether the process was told to stop by SIGTERM (how an orchestrator stops a node), as opposed to a
 * plain `app.close()` (which tests use to stop a node like a crash) or Ctrl-C. Nest tells hooks the
 * signal only after onModuleDestroy, too late to leave while gossip still runs: so it is heard here,
 * first, and nothing else is done with it. Without Nest's shutdown hooks nobody else listens to
 * SIGTERM; then the default action (exit) is restored and the signal raised again.
 */
export class TerminationSignal {
  /** Every instance's listener: several Nest apps in one process each have one, and none counts as "someone else". */
  private static readonly ours = new Set<NodeJS.SignalsListener>();
  private heard = false;
  private readonly listener = (): void => {
    this.heard = true;
    const others = process.listeners('SIGTERM').filter((l) => !TerminationSignal.ours.has(l));
    if (others.length === 0) {
      for (const l of TerminationSignal.ours) process.removeListener('SIGTERM', l);
      TerminationSignal.ours.clear();
      process.kill(process.pid, 'SIGTERM');
    }
  };

  get received(): boolean {
    return this.heard;
  }

  listen(): void {
    TerminationSignal.ours.add(this.listener);
    process.prependListener('SIGTERM', this.listener);
  }

  stopListening(): void {
    TerminationSignal.ours.delete(this.listener);
    process.removeListener('SIGTERM', this.listener);
  }
}
