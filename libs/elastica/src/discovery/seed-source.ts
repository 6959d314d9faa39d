import { isIP } from 'node:net';
import { checkHost, checkPort, parseHostPort } from '../common/host-port.js';
import { describe, fail } from '../options/option-checks.js';

/**
 * An application's own source of seeds (a service registry, a cloud API): `resolve()` returns
 * `host:port` strings. It is called again at each seed retry; a throw or a reject is a failed lookup,
 * retried with backoff, never fatal.
 */
export interface SeedProvider {
  resolve(): Promise<string[]>;
}

/** One entry of `seeds`, parsed: see docs/ARCHITECTURE.md, "Seed discovery". */
export type SeedSource =
  /** `host:port` with an IP address: used as it is. */
  | { kind: 'address'; host: string; port: number; text: string }
  /** `host:port` with a host name: every address it resolves to (the system resolver, /etc/hosts included). */
  | { kind: 'name'; host: string; port: number; text: string }
  /** `dns:NAME:PORT`: every A and AAAA record of NAME, from DNS. */
  | { kind: 'dns'; host: string; port: number; text: string }
  /** `srv:_service._proto.NAME`: the SRV records' targets and ports. */
  | { kind: 'srv'; name: string; text: string }
  | { kind: 'provider'; provider: SeedProvider; text: string };

/** Parses one `seeds` entry, failing with the option named. */
export function parseSeedSource(option: string, entry: unknown): SeedSource {
  if (typeof entry === 'object' && entry !== null && typeof (entry as SeedProvider).resolve === 'function') {
    const name = (entry as { constructor?: { name?: string } }).constructor?.name;
    return {
      kind: 'provider',
      provider: entry as SeedProvider,
      text: `provider ${name && name !== 'Object' ? name : option}`,
    };
  }
  if (typeof entry !== 'string')
    fail(
      option,
      `expected "host:port", "dns:NAME:PORT", "srv:_service._proto.NAME" or an object with resolve(), got ${describe(entry)}`,
    );
  const text = entry.trim();
  if (text.startsWith('dns:')) {
    const match = /^dns:([^:]+):(\d+)$/.exec(text);
    if (!match) fail(option, `${describe(entry)} is not of the form dns:NAME:PORT`);
    const host = checkHost(option, match[1]);
    if (isIP(host) !== 0) fail(option, `${describe(entry)} names an IP address; write it as host:port`);
    return { kind: 'dns', host, port: checkPort(option, Number(match[2]), false), text };
  }
  if (text.startsWith('srv:')) {
    const name = text.slice(4);
    if (!/^_[A-Za-z0-9-]+\._(tcp|udp)\.[A-Za-z0-9.-]+$/.test(name))
      fail(
        option,
        `${describe(entry)} is not of the form srv:_service._proto.NAME (e.g. srv:_cluster._tcp.kv.default.svc)`,
      );
    return { kind: 'srv', name, text };
  }
  const { host, port } = parseHostPort(option, text);
  return { kind: isIP(host) === 0 ? 'name' : 'address', host, port, text };
}
