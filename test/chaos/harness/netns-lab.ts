import { labNames, type LabNames } from './lab-names.js';
import { sh } from './shell.js';

const TABLE = 'elastica_chaos';

/**
 * A private network for one suite: a bridge with an address for the root namespace (where the test
 * runs), and N network namespaces, each joined to the bridge by a veth pair and given its own address.
 *
 * Faults are nftables rules in each receiving namespace's input hook (never in the sender's output:
 * a packet dropped on output makes the sender's own socket call fail at once, which no real network
 * does). Traffic from the root namespace (the harness watching) is never dropped, so observing the
 * cluster does not depend on the fault being injected.
 */
export class NetnsLab {
  private readonly blocked = new Set<string>(); // "from>to": packets from `from` never reach `to`
  private lossPercent = 0;

  private constructor(
    readonly names: LabNames,
    readonly size: number,
  ) {}

  /** Removes whatever an earlier (crashed) run of this suite left, then builds the lab. */
  static create(suiteId: number, size: number): NetnsLab {
    const lab = new NetnsLab(labNames(suiteId), size);
    NetnsLab.removeLeftovers(lab.names);
    try {
      lab.build();
    } catch (error) {
      NetnsLab.removeLeftovers(lab.names);
      throw error;
    }
    return lab;
  }

  get hostAddress(): string {
    return this.names.hostAddress;
  }
  address(i: number): string {
    return this.names.address(this.check(i));
  }
  namespace(i: number): string {
    return this.names.namespace(this.check(i));
  }
  indexes(): number[] {
    return [...Array(this.size).keys()];
  }

  /** Cuts every link between the two groups, both ways. */
  partition(groupA: number[], groupB: number[]): void {
    for (const a of groupA)
      for (const b of groupB) {
        this.block(a, b);
        this.block(b, a);
      }
    this.apply();
  }

  /** Packets from `from` no longer reach `to`; the other direction still flows. */
  oneWay(from: number, to: number): void {
    this.block(from, to);
    this.apply();
  }

  /** Every node-to-node link drops `percent`% of packets at random (nftables `numgen random`). */
  loss(percent: number): void {
    if (!Number.isInteger(percent) || percent < 0 || percent > 100)
      throw new Error(`loss must be an integer percent 0..100, got ${percent}`);
    this.lossPercent = percent;
    this.apply();
  }

  /** Removes every partition and every loss rule. */
  heal(): void {
    this.blocked.clear();
    this.lossPercent = 0;
    this.apply();
  }

  /** The ruleset currently loaded in node i's namespace (for logs and the harness self-test). */
  rules(i: number): string {
    return sh('ip', ['netns', 'exec', this.namespace(i), 'nft', 'list', 'table', 'inet', TABLE]);
  }

  destroy(): void {
    NetnsLab.removeLeftovers(this.names);
  }

  private build(): void {
    const n = this.names;
    sh('ip', ['link', 'add', n.bridge, 'type', 'bridge']);
    sh('ip', ['addr', 'add', `${n.hostAddress}/24`, 'dev', n.bridge]);
    sh('ip', ['link', 'set', n.bridge, 'up']);
    for (const i of this.indexes()) {
      const ns = n.namespace(i);
      sh('ip', ['netns', 'add', ns]);
      sh('ip', ['link', 'add', n.vethHost(i), 'type', 'veth', 'peer', 'name', n.vethPeer(i)]);
      sh('ip', ['link', 'set', n.vethPeer(i), 'netns', ns]);
      sh('ip', ['-n', ns, 'link', 'set', n.vethPeer(i), 'name', 'eth0']);
      sh('ip', ['-n', ns, 'addr', 'add', `${n.address(i)}/24`, 'dev', 'eth0']);
      sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      sh('ip', ['link', 'set', n.vethHost(i), 'master', n.bridge]);
      sh('ip', ['link', 'set', n.vethHost(i), 'up']);
    }
    this.apply();
  }

  private block(from: number, to: number): void {
    this.check(from);
    this.check(to);
    if (from !== to) this.blocked.add(`${from}>${to}`);
  }

  /** Rewrites every namespace's table atomically (one `nft -f` each) from the model above. */
  private apply(): void {
    for (const to of this.indexes()) {
      const sources = this.indexes()
        .filter((from) => this.blocked.has(`${from}>${to}`))
        .map((from) => this.address(from));
      const rules: string[] = [];
      if (sources.length > 0) rules.push(`iifname "eth0" ip saddr { ${sources.join(', ')} } drop`);
      if (this.lossPercent > 0)
        rules.push(`iifname "eth0" ip saddr != ${this.hostAddress} numgen random mod 100 < ${this.lossPercent} drop`);
      const script = [
        `table inet ${TABLE}`,
        `delete table inet ${TABLE}`,
        `table inet ${TABLE} {`,
        '  chain input {',
        '    type filter hook input priority 0; policy accept;',
        ...rules.map((r) => `    ${r}`),
        '  }',
        '}',
        '',
      ].join('\n');
      sh('ip', ['netns', 'exec', this.namespace(to), 'nft', '-f', '-'], { input: script });
    }
  }

  private check(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.size)
      throw new Error(`node index must be 0..${this.size - 1}, got ${i}`);
    return i;
  }

  /** Kills the processes left in this suite's namespaces (by pid), then deletes namespaces and links. */
  static removeLeftovers(names: LabNames): void {
    const namespaces = sh('ip', ['netns', 'list'], { allowFailure: true })
      .split('\n')
      .map((line) => line.split(' ')[0])
      .filter((ns) => ns.startsWith(names.prefix));
    for (const ns of namespaces) {
      const pids = sh('ip', ['netns', 'pids', ns], { allowFailure: true })
        .split('\n')
        .filter((p) => /^\d+$/.test(p));
      for (const pid of pids) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      sh('ip', ['netns', 'delete', ns], { allowFailure: true });
    }
    const links = sh('ip', ['-o', 'link', 'show'], { allowFailure: true })
      .split('\n')
      .map((line) => /^\d+:\s+([^:@\s]+)/.exec(line)?.[1])
      .filter((name): name is string => name !== undefined && name.startsWith(names.prefix));
    // veth host ends first (deleting one end deletes its peer), the bridge last.
    for (const link of links.sort((a, b) => Number(a === names.bridge) - Number(b === names.bridge))) {
      sh('ip', ['link', 'delete', link], { allowFailure: true });
    }
  }
}
