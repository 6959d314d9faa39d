import { describe, expect, it } from '@jest/globals';
import { collectQuorum, majority, QuorumError } from './quorum.js';

/** A replica call the test answers by hand, so arrival order is explicit. */
function manual<T>() {
  const pending = new Map<string, { resolve: (v: T) => void; reject: (e: Error) => void }>();
  const calls: string[] = [];
  const call = (id: string) => {
    calls.push(id);
    return new Promise<T>((resolve, reject) => pending.set(id, { resolve, reject }));
  };
  const flush = () => new Promise((r) => setImmediate(r));
  return { call, calls, pending, flush };
}

describe('majority', () => {
  it('is two of three, one of one, three of five', () => {
    expect([1, 2, 3, 4, 5].map(majority)).toEqual([1, 2, 2, 3, 3]);
  });
});

describe('collectQuorum', () => {
  it('asks every replica at once and resolves on the needed replies, leaving the rest to `settled`', async () => {
    const m = manual<string>();
    let done = false;
    const result = collectQuorum({ replicas: ['a', 'b', 'c'], call: m.call, needed: 2 }).then(
      (r) => ((done = true), r),
    );
    expect(m.calls).toEqual(['a', 'b', 'c']);
    m.pending.get('b')!.resolve('B');
    await m.flush();
    expect(done).toBe(false);
    m.pending.get('c')!.resolve('C');
    const outcome = await result;
    expect([...outcome.replies]).toEqual([
      ['b', 'B'],
      ['c', 'C'],
    ]);
    m.pending.get('a')!.reject(new Error('late failure'));
    const all = await outcome.settled;
    expect([...all.replies.keys()]).toEqual(['b', 'c']);
    expect(all.failures.get('a')?.message).toBe('late failure');
  });

  it('fails as soon as the quorum has become impossible, naming each failure', async () => {
    const m = manual<string>();
    const result = collectQuorum({ replicas: ['a', 'b', 'c'], call: m.call, needed: 2 });
    m.pending.get('a')!.reject(new Error('down'));
    m.pending.get('b')!.reject(new Error('timed out'));
    await expect(result).rejects.toThrow(QuorumError);
    await expect(result).rejects.toThrow('0 of the 2 replica answers needed (a: down; b: timed out)');
  });

  it('counts a call that throws synchronously as that replica failing', async () => {
    const outcome = await collectQuorum({
      replicas: ['a', 'b', 'c'],
      needed: 2,
      call: (id) => {
        if (id === 'a') throw new Error('boom');
        return Promise.resolve(id);
      },
    });
    expect([...outcome.replies.keys()].sort()).toEqual(['b', 'c']);
    expect((await outcome.settled).failures.get('a')?.message).toBe('boom');
  });

  it('waits beyond the needed replies until `enough` is satisfied, or for everyone', async () => {
    const m = manual<number>();
    let done = false;
    const result = collectQuorum({
      replicas: ['a', 'b', 'c'],
      call: m.call,
      needed: 2,
      enough: (r) => new Set(r.values()).size === 1,
    }).then((r) => ((done = true), r));
    m.pending.get('a')!.resolve(1);
    m.pending.get('b')!.resolve(2);
    await m.flush();
    expect(done).toBe(false);
    m.pending.get('c')!.reject(new Error('gone'));
    const outcome = await result;
    expect(outcome.replies.size).toBe(2);
    expect(outcome.failures.get('c')?.message).toBe('gone');
  });

  it('refuses a quorum larger than the replica set, and an empty one', async () => {
    await expect(collectQuorum({ replicas: [], call: () => Promise.resolve(1), needed: 1 })).rejects.toThrow(
      QuorumError,
    );
    await expect(collectQuorum({ replicas: ['a'], call: () => Promise.resolve(1), needed: 2 })).rejects.toThrow(
      '0 of the 2',
    );
  });
});
