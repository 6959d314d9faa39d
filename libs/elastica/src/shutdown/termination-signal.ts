/**
 * Whether the process was told to stop by SIGTERM (how an orchestrator stops a node), as opposed to a
 * plain `app.close()` (which tests use to stop a node like a crash) or Ctrl-C. Nest tells hooks the
 * signal only after onModuleDestroy, too late to leave while gossip still runs: so it is heard here,
 * first, and nothing else is done with it. Without Nest's shutdown hooks nobody else listens to
 * SIGTERM; then the default action (exit) is restored and the signal raised again.
 *
 * One process listener serves every instance: several Nest apps in one process (tests, a gateway
 * hosting two clusters) would otherwise pass Node's limit of ten listeners and draw its leak warning.
 */
export class TerminationSignal {
  private static readonly listening = new Set<TerminationSignal>();
  private static readonly onSignal = (): void => {
    for (const signal of TerminationSignal.listening) signal.heard = true;
    const others = process.listeners('SIGTERM').filter((l) => l !== TerminationSignal.onSignal);
    if (others.length === 0) {
      TerminationSignal.listening.clear();
      process.removeListener('SIGTERM', TerminationSignal.onSignal);
      process.kill(process.pid, 'SIGTERM');
    }
  };
  private heard = false;

  get received(): boolean {
    return this.heard;
  }

  listen(): void {
    if (TerminationSignal.listening.size === 0) process.prependListener('SIGTERM', TerminationSignal.onSignal);
    TerminationSignal.listening.add(this);
  }

  stopListening(): void {
    if (!TerminationSignal.listening.delete(this)) return;
    if (TerminationSignal.listening.size === 0) process.removeListener('SIGTERM', TerminationSignal.onSignal);
  }
}
