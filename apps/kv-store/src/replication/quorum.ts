/** A majority of `replicas`: two of three, so any write quorum and any read quorum share a replica. */
export function majority(replicas: number): number {
  return Math.floor(replicas / 2) + 1;
}

export interface QuorumReplies<T> {
  /** Replies by replica id, in arrival order. */
  readonly replies: ReadonlyMap<string, T>;
  /** Failures by replica id. */
  readonly failures: ReadonlyMap<string, Error>;
}

export interface QuorumOutcome<T> extends QuorumReplies<T> {
  /** Every replica's answer once all have answered or failed (for read repair and statistics). */
  readonly settled: Promise<QuorumReplies<T>>;
}

export class QuorumError extends Error {
  constructor(
    readonly needed: number,
    readonly replies: number,
    readonly failures: ReadonlyMap<string, Error>,
  ) {
    const reasons = [...failures].map(([id, error]) => `${id}: ${error.message}`).join('; ');
    super(`${replies} of the ${needed} replica answers needed${reasons ? ` (${reasons})` : ''}`);
    this.name = 'QuorumError';
  }
}

/**
 * Too few of the key's replicas are up for a quorum to be possible at all: refused before anything is
 * sent, so nothing is written. `copies` is how many replicas the key is meant to have (the replication
 * factor, or the number of ring members when the cluster is smaller), `live` how many are up now.
 */
export class TooFewReplicasUpError extends QuorumError {
  constructor(
    needed: number,
    readonly live: number,
    readonly copies: number,
  ) {
    super(needed, 0, new Map());
    this.name = 'TooFewReplicasUpError';
    this.message = `only ${live} of the key's ${copies} replicas ${live === 1 ? 'is' : 'are'} up, and ${needed} must answer (a majority of ${copies})`;
  }
}

export interface QuorumRequest<T> {
  replicas: readonly string[];
  /** Asks one replica; a rejection counts as that replica's failure. */
  call: (replica: string) => Promise<T>;
  /** Replies needed. */
  needed: number;
  /**
   * When given, `needed` replies are not enough on their own: the outcome waits for more replies (up to
   * all of them) until this says the replies so far settle the question.
   */
  enough?: (replies: ReadonlyMap<string, T>) => boolean;
}

/**
 * Asks every replica at once and resolves as soon as the replies settle the request: `needed` of them
 * (and `enough` agrees), or, failing that, everything that could answer has. Rejects with QuorumError as
 * soon as too many have failed for `needed` to be reached. Pure: the call function does the I/O and
 * owns the timeouts; the late replies keep arriving into `settled`.
 */
export function collectQuorum<T>(request: QuorumRequest<T>): Promise<QuorumOutcome<T>> {
  const { replicas, call, needed, enough } = request;
  const replies = new Map<string, T>();
  const failures = new Map<string, Error>();
  let resolveSettled!: (r: QuorumReplies<T>) => void;
  const settled = new Promise<QuorumReplies<T>>((resolve) => (resolveSettled = resolve));
  return new Promise<QuorumOutcome<T>>((resolve, reject) => {
    let decided = false;
    const decide = (): void => {
      const answered = replies.size + failures.size;
      const all = answered === replicas.length;
      if (all) resolveSettled({ replies: new Map(replies), failures: new Map(failures) });
      if (decided) return;
      if (replies.size + (replicas.length - answered) < needed) {
        decided = true;
        reject(new QuorumError(needed, replies.size, new Map(failures)));
      } else if (replies.size >= needed && (all || enough === undefined || enough(replies))) {
        decided = true;
        resolve({ replies: new Map(replies), failures: new Map(failures), settled });
      }
    };
    if (replicas.length === 0 || needed > replicas.length) {
      decided = true;
      resolveSettled({ replies, failures });
      reject(new QuorumError(needed, 0, failures));
      return;
    }
    for (const replica of replicas) {
      let promise: Promise<T>;
      try {
        promise = call(replica);
      } catch (error) {
        promise = Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      promise.then(
        (reply) => {
          replies.set(replica, reply);
          decide();
        },
        (error: unknown) => {
          failures.set(replica, error instanceof Error ? error : new Error(String(error)));
          decide();
        },
      );
    }
  });
}
