import { lookup, Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { formatHostPort, parseHostPort } from '../common/host-port.js';
import type { SeedSource } from './seed-source.js';

/** The lookups seed discovery makes; node:dns by default (tests of the rules pass their own). */
export interface SeedLookups {
  /** Every address of `host` from the system resolver (getaddrinfo: /etc/hosts, then DNS). */
  lookupAll(host: string): Promise<string[]>;
  /** A and AAAA records of `host`, from DNS only; each rejects on its own (ENODATA when there are none). */
  resolve4(host: string): Promise<string[]>;
  resolve6(host: string): Promise<string[]>;
  resolveSrv(name: string): Promise<{ name: string; port: number }[]>;
}

/**
 * node:dns, with a fresh c-ares resolver per round (it reads /etc/resolv.conf when made, so a changed
 * resolver configuration is picked up) and its own per-try timeout.
 */
export function systemLookups(timeoutMs: number): () => SeedLookups {
  return () => {
    const resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
    return {
      lookupAll: async (host) => (await lookup(host, { all: true })).map((a) => a.address),
      resolve4: (host) => resolver.resolve4(host),
      resolve6: (host) => resolver.resolve6(host),
      resolveSrv: (name) => resolver.resolveSrv(name),
    };
  };
}

export interface SeedResolution {
  /** Every `host:port` found, IP addresses only (so a node recognises itself per address), no repeats. */
  addresses: string[];
  /** Sources whose lookup failed this round. */
  failed: number;
}

/** Why a lookup failed, in the few words that tell one cause from another (ENOTFOUND, ETIMEOUT, ...). */
function causeOf(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' ? `${code} (${message})` : message;
}

/** Rejects after `ms`: getaddrinfo and providers have no timeout of their own. */
function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`${what} took longer than ${ms} ms`), { code: 'ETIMEOUT' })),
      ms,
    );
    timer.unref();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** At most this many addresses are taken from one source: a provider or a DNS answer cannot grow memory without bound. */
export const MAX_ADDRESSES_PER_SOURCE = 256;

/**
 * Turns the `seeds` entries into addresses, once per call: every entry looked up (in parallel, each
 * bounded by `timeoutMs`), failures told once per cause and once more when the entry recovers.
 * See docs/ARCHITECTURE.md, "Seed discovery".
 */
export class SeedResolver {
  /** The cause each failing source last failed with: a new cause is told, a repeat is not. */
  private readonly failing = new Map<string, string>();

  constructor(
    private readonly sources: readonly SeedSource[],
    private readonly timeoutMs: number,
    private readonly lookups: () => SeedLookups,
    private readonly notice: (level: 'log' | 'warn', message: string) => void,
  ) {}

  /** Whether any entry must be looked up (a node with only IP-address seeds never resolves anything). */
  get needed(): boolean {
    return this.sources.some((s) => s.kind !== 'address');
  }

  async resolve(): Promise<SeedResolution> {
    const lookups = this.lookups();
    const found = new Set<string>();
    let failed = 0;
    await Promise.all(
      this.sources.map(async (source) => {
        try {
          const addresses = await within(this.timeoutMs * 2, `looking up ${source.text}`, this.lookup(source, lookups));
          for (const address of addresses.slice(0, MAX_ADDRESSES_PER_SOURCE)) found.add(address);
          if (this.failing.delete(source.text))
            this.notice('log', `seed ${source.text} resolves again: ${addresses.join(', ') || 'no address'}`);
        } catch (error) {
          failed++;
          const cause = causeOf(error);
          if (this.failing.get(source.text) !== cause) {
            this.failing.set(source.text, cause);
            this.notice('warn', `seed ${source.text} could not be looked up: ${cause}; retrying with backoff`);
          }
        }
      }),
    );
    return { addresses: [...found], failed };
  }

  private async lookup(source: SeedSource, lookups: SeedLookups): Promise<string[]> {
    switch (source.kind) {
      case 'address':
        return [formatHostPort(source)];
      case 'name':
        return withPort(await lookups.lookupAll(source.host), source.port);
      case 'dns': {
        const [v4, v6] = await Promise.allSettled([lookups.resolve4(source.host), lookups.resolve6(source.host)]);
        if (v4.status === 'rejected' && v6.status === 'rejected') throw v4.reason;
        const ips = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
        return withPort(ips, source.port);
      }
      case 'srv': {
        const records = await lookups.resolveSrv(source.name);
        const out: string[] = [];
        // An SRV target is a host name: each is looked up in turn, so a node still recognises itself per address.
        for (const record of records.slice(0, MAX_ADDRESSES_PER_SOURCE)) {
          const ips = isIP(record.name) ? [record.name] : await lookups.lookupAll(record.name);
          out.push(...withPort(ips, record.port));
        }
        return out;
      }
      case 'provider': {
        const given = await source.provider.resolve();
        if (!Array.isArray(given)) throw new Error(`resolve() gave ${typeof given}, not an array of "host:port"`);
        const out: string[] = [];
        for (const [i, text] of given.slice(0, MAX_ADDRESSES_PER_SOURCE).entries()) {
          const { host, port } = parseHostPort(`${source.text}[${i}]`, text);
          const ips = isIP(host) ? [host] : await lookups.lookupAll(host);
          out.push(...withPort(ips, port));
        }
        return out;
      }
    }
  }
}

function withPort(ips: readonly string[], port: number): string[] {
  return ips.map((host) => formatHostPort({ host, port }));
}
