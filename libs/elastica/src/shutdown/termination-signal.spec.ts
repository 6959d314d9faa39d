import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { TerminationSignal } from './termination-signal.js';

// The listeners are driven with process.emit (no real signal reaches Jest's worker), and process.kill is
// watched so the re-raised signal is seen instead of ending the test run.
describe('TerminationSignal', () => {
  const started: TerminationSignal[] = [];
  const start = () => {
    const signal = new TerminationSignal();
    signal.listen();
    started.push(signal);
    return signal;
  };
  afterEach(() => {
    for (const s of started.splice(0)) s.stopListening();
    jest.restoreAllMocks();
  });

  it('with nobody else listening (no Nest shutdown hooks), re-raises SIGTERM so the process still exits, however many apps', () => {
    const kill = jest.spyOn(process, 'kill').mockImplementation(() => true);
    const others = process.listeners('SIGTERM');
    for (const l of others) process.removeListener('SIGTERM', l);
    try {
      const [a, b] = [start(), start()];
      process.emit('SIGTERM', 'SIGTERM');
      expect(a.received || b.received).toBe(true);
      expect(kill).toHaveBeenCalledWith(process.pid, 'SIGTERM');
      expect(process.listenerCount('SIGTERM')).toBe(0); // the default action is back
    } finally {
      for (const l of others) process.on('SIGTERM', l);
    }
  });

  it('with Nest listening, only notes the signal, first, and leaves the rest to Nest', () => {
    const kill = jest.spyOn(process, 'kill').mockImplementation(() => true);
    let heardFirst: boolean | undefined;
    const signal = start();
    const nest = () => (heardFirst = signal.received);
    process.on('SIGTERM', nest);
    try {
      process.emit('SIGTERM', 'SIGTERM');
      expect(heardFirst).toBe(true);
      expect(kill).not.toHaveBeenCalled();
    } finally {
      process.removeListener('SIGTERM', nest);
    }
  });
});
