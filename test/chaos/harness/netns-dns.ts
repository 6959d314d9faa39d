import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARTIFACTS } from './artifacts.js';
import type { NetnsLab } from './netns-lab.js';
import { SBIN_PATH } from './shell.js';

/**
 * A DNS server per namespace of a lab: Debian's dnsmasq, run inside the namespace on its loopback,
 * which `ip netns exec` makes the namespace's resolver (/etc/netns/NS/resolv.conf is bind-mounted over
 * /etc/resolv.conf). Each answers one name with the records of the nodes listed, in its own order:
 * the namespace's own address first, then the others rotated (as a headless Service's answers vary
 * from pod to pod). `--no-round-robin` keeps that order from query to query.
 */
export class NetnsDns {
  private readonly servers = new Map<number, ChildProcess>();
  private records: number[] = [];
  private readonly dir: string;

  constructor(
    private readonly lab: NetnsLab,
    readonly name: string,
    suite: string,
    private readonly srvPort = 7000,
  ) {
    this.dir = join(ARTIFACTS, suite, 'dns');
    mkdirSync(this.dir, { recursive: true });
    for (const i of lab.indexes()) {
      const etc = this.etc(i);
      mkdirSync(etc, { recursive: true });
      // One short try: a resolver that is down must not hold a lookup for the default 5 s x 2.
      writeFileSync(join(etc, 'resolv.conf'), 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
    }
  }

  /** The SRV name whose records point at every node (`node-i.<name>`, port `srvPort`), fixed at start. */
  get srvName(): string {
    return `_elastica._tcp.${this.name}`;
  }

  /** The nodes whose addresses the name lists (each server re-reads its file on SIGHUP). */
  setRecords(nodes: number[]): void {
    this.records = [...nodes];
    for (const i of this.lab.indexes()) {
      const mine = this.records.includes(i) ? [i] : [];
      const rest = this.records.filter((j) => j !== i);
      const shift = rest.length === 0 ? 0 : i % rest.length;
      const order = [...mine, ...rest.slice(shift), ...rest.slice(0, shift)];
      const lines = order.map((j) => `${this.lab.address(j)} ${this.name}\n`);
      // Every node also by a name of its own, the targets of the SRV records.
      for (const j of this.lab.indexes()) lines.push(`${this.lab.address(j)} node-${j}.${this.name}\n`);
      writeFileSync(this.hostsFile(i), lines.join(''));
    }
    for (const server of this.servers.values()) server.kill('SIGHUP');
  }

  /** Starts the server of every namespace (or of those given). */
  start(nodes: number[] = this.lab.indexes()): void {
    for (const i of nodes) {
      if (this.servers.has(i)) continue;
      const server = spawn(
        'ip',
        [
          'netns',
          'exec',
          this.lab.namespace(i),
          'dnsmasq',
          '--keep-in-foreground',
          '--no-resolv',
          '--no-hosts',
          '--no-round-robin',
          `--addn-hosts=${this.hostsFile(i)}`,
          '--listen-address=127.0.0.1',
          ...this.lab.indexes().map((j) => `--srv-host=${this.srvName},node-${j}.${this.name},${this.srvPort}`),
          '--bind-interfaces',
          '--user=root',
          `--pid-file=${join(this.dir, `dnsmasq-${i}.pid`)}`,
        ],
        { stdio: 'ignore', env: { ...process.env, PATH: SBIN_PATH } },
      );
      this.servers.set(i, server);
    }
  }

  /** Stops every server: lookups in the namespaces are refused until `start`. */
  async stop(): Promise<void> {
    const stopping = [...this.servers.values()].map(
      (server) =>
        new Promise<void>((resolve) => {
          if (server.exitCode !== null || server.signalCode !== null) return resolve();
          server.once('exit', () => resolve());
          server.kill('SIGTERM');
        }),
    );
    this.servers.clear();
    await Promise.all(stopping);
  }

  async destroy(): Promise<void> {
    await this.stop();
    for (const i of this.lab.indexes()) rmSync(this.etc(i), { recursive: true, force: true });
  }

  private etc(i: number): string {
    return join('/etc/netns', this.lab.namespace(i));
  }

  private hostsFile(i: number): string {
    return join(this.dir, `hosts-${i}`);
  }
}
