import type { Server } from 'node:http';

export interface HttpLimitOptions {
  /** Open HTTP connections at most; past it the server drops new ones as they arrive (Node's `server.maxConnections`). */
  maxConnections: number;
  /**
   * Bytes of request bodies held in memory at once, across every request in flight (a PUT's body is
   * held from its first byte until its write has been acknowledged or failed). Past it a PUT answers
   * 503 with `Retry-After`, so memory is bounded however many clients write at once.
   */
  maxBodyBytesInFlight: number;
}

/** 1,024 connections; 32 MiB of bodies: 128 bodies of the largest size (256 KiB) at once. */
export const DEFAULT_HTTP_LIMITS: HttpLimitOptions = { maxConnections: 1024, maxBodyBytesInFlight: 32 * 1024 * 1024 };

export class BodyBudgetError extends Error {
  constructor(readonly limit: number) {
    super(`this node already holds ${limit} bytes of request bodies in flight, its bound; retry shortly`);
    this.name = 'BodyBudgetError';
  }
}

/** One request's share of the body budget: taken chunk by chunk as the body arrives, released once. */
export interface BodyReservation {
  /** The budget's bound (for the refusal's message). */
  readonly limit: number;
  /** Takes `bytes` more; false (taking nothing) if the budget cannot spare them. */
  take(bytes: number): boolean;
  /** Gives back everything this request took. Idempotent. */
  release(): void;
}

export interface HttpLimitStats {
  maxConnections: number;
  droppedConnections: number;
  maxBodyBytesInFlight: number;
  bodyBytesInFlight: number;
  refusedBodies: number;
}

type Warn = (message: string) => void;

/**
 * The node's bounds on what HTTP clients can make it hold: connections (each costs a socket and its
 * parser) and body bytes in flight (each PUT may buffer up to the value limit). Refusals are counted,
 * and logged at most once per `logEveryMs`, with how many there were since: never once per request.
 */
export class HttpLimits {
  private bodyBytes = 0;
  private refused = 0;
  private dropped = 0;
  private readonly lastLogged = { refused: 0, dropped: 0, atMs: -Infinity };

  constructor(
    readonly options: HttpLimitOptions = DEFAULT_HTTP_LIMITS,
    private readonly warn: Warn = () => {},
    private readonly now: () => number = Date.now,
    private readonly logEveryMs = 10_000,
  ) {
    for (const [name, value] of Object.entries(options)) {
      if (!Number.isSafeInteger(value) || value < 1)
        throw new RangeError(`HTTP limit ${name} must be a positive integer, got ${String(value)}`);
    }
  }

  reserve(): BodyReservation {
    let taken = 0;
    let released = false;
    return {
      limit: this.options.maxBodyBytesInFlight,
      take: (bytes) => {
        if (released) return false;
        if (this.bodyBytes + bytes > this.options.maxBodyBytesInFlight) {
          this.refused++;
          this.maybeLog();
          return false;
        }
        this.bodyBytes += bytes;
        taken += bytes;
        return true;
      },
      release: () => {
        if (released) return;
        released = true;
        this.bodyBytes -= taken;
        taken = 0;
      },
    };
  }

  /** Caps the server's connections and counts the ones it drops (call before `listen`). */
  apply(server: Server): void {
    server.maxConnections = this.options.maxConnections;
    server.on('drop', () => {
      this.dropped++;
      this.maybeLog();
    });
  }

  stats(): HttpLimitStats {
    return {
      maxConnections: this.options.maxConnections,
      droppedConnections: this.dropped,
      maxBodyBytesInFlight: this.options.maxBodyBytesInFlight,
      bodyBytesInFlight: this.bodyBytes,
      refusedBodies: this.refused,
    };
  }

  private maybeLog(): void {
    const now = this.now();
    if (now - this.lastLogged.atMs < this.logEveryMs) return;
    const refused = this.refused - this.lastLogged.refused;
    const dropped = this.dropped - this.lastLogged.dropped;
    const parts: string[] = [];
    if (dropped > 0)
      parts.push(`${dropped} connection(s) dropped at the bound of ${this.options.maxConnections} open connections`);
    if (refused > 0)
      parts.push(
        `${refused} request body(ies) refused with 503 at the bound of ${this.options.maxBodyBytesInFlight} body bytes in flight`,
      );
    this.warn(
      `HTTP limits: ${parts.join('; ')} (totals: ${this.dropped} dropped, ${this.refused} refused; logged at most every ${this.logEveryMs / 1000} s)`,
    );
    this.lastLogged.refused = this.refused;
    this.lastLogged.dropped = this.dropped;
    this.lastLogged.atMs = now;
  }
}
