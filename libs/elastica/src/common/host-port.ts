import { isIP } from 'node:net';
import { ElasticaOptionsError } from '../errors/elastica-options.error.js';
import type { HostPort } from '../options/elastica-options.js';

/**
 * Every way Elastica reads or writes a "host:port": the options and the CLI (validated, with the option
 * named in the error), the addresses it dials (already validated), and a socket's two ends in logs.
 */

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function fail(option: string, problem: string): never {
  throw new ElasticaOptionsError(option, problem);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  return typeof value;
}

/** A host name or IP address (brackets around a v6 one allowed), returned bare. */
export function checkHost(option: string, host: unknown): string {
  if (typeof host !== 'string' || host.length === 0)
    fail(option, `expected a host name or IP address, got ${describe(host)}`);
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(bare) === 0 && !HOSTNAME.test(bare))
    fail(option, `${describe(host)} is not a valid host name or IP address`);
  return bare;
}

export function checkPort(option: string, port: unknown, allowZero: boolean): number {
  const min = allowZero ? 0 : 1;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < min || port > 65535) {
    fail(option, `expected an integer port from ${min} to 65535, got ${describe(port)}`);
  }
  return port;
}

/** Parses `host:port` (or `[v6]:port`), the form seeds and the CLI use. */
export function parseHostPort(option: string, text: unknown): HostPort {
  if (typeof text !== 'string') fail(option, `expected "host:port", got ${describe(text)}`);
  const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(text.trim());
  if (!match) fail(option, `${describe(text)} is not of the form host:port`);
  return { host: checkHost(option, match[1]), port: checkPort(option, Number(match[2]), false) };
}

export function formatHostPort(address: HostPort): string {
  return isIP(address.host) === 6 ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/**
 * "host:port" or "[v6]:port" to its parts, without checking them: for addresses that were checked on
 * their way in (options, HELLO), where a bad one is left for the dial to fail on.
 */
export function splitAddress(address: string): HostPort {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at);
  return { host: host.startsWith('[') ? host.slice(1, -1) : host, port: Number(address.slice(at + 1)) };
}

/** "address:port" as a socket reports them: IPv6 unbracketed, as the logs have always shown them. */
export function socketAddress(address: string | undefined, port: number | undefined): string {
  return `${address}:${port}`;
}

/**
 * One end of a socket, IPv4-mapped IPv6 addresses written as IPv4, so both ends of one socket name it
 * alike (which is how a node tells that it dialled itself).
 */
export function socketEndpoint(address: string, port: number | undefined): string {
  return socketAddress(address.startsWith('::ffff:') ? address.slice(7) : address, port);
}
