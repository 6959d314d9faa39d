/**
 * Whether the process was told to stop by SIGTERM (how an orchestrator stops a node), as opposed to a
 * plain `app.close()` (which tests use to stop a node like a crash) or Ctrl-C. Nest tells hooks the
 * signal only after onModuleDestroy, too late to leave while gossip still runs: so it is heard here,
 * first, and nothing else is done with it. Without Nest's shutdown hooks nobody else listens to
 * SIGTERM; then the default action (exit) is restored and the signal raised again.
 */
export class TerminationSignal {
  private heard = false;
  private readonly listener = (): void => {
    this.heard = true;
    if (process.listenerCount('SIGTERM') === 1) {
      this.stopListening();
      process.kill(process.pid, 'SIGTERM');
    }
  };

  get received(): boolean {
    return this.heard;
  }

  listen(): void {
    process.prependListener('SIGTERM', this.listener);
  }

  stopListening(): void {
    process.removeListener('SIGTERM', this.listener);
  }
}
