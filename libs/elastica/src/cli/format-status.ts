import type { AdminStatus } from '../admin/admin.types.js';

const STATE: Record<string, string> = { up: 'UN', joining: 'UJ', leaving: 'UL', down: 'DN', left: 'LF' };

function bytes(load: number | null): string {
  if (load === null) return '?';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = load;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v.toFixed(0) : v.toFixed(2)} ${units[i]}`;
}

/** `elastica status` as `nodetool status` prints it: a legend, then one line per member. */
export function formatStatus(status: AdminStatus): string {
  const rows = [...status.members]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((m) => [
      STATE[m.status] ?? m.status,
      m.address,
      bytes(m.load),
      `${(m.ownership * 100).toFixed(1)}%`,
      m.version ?? '?',
      m.phi === null ? 'inf' : m.phi.toFixed(2),
      m.id === status.self ? `${m.id} (this node)` : m.id,
    ]);
  const header = ['--', 'Address', 'Load', 'Owns', 'Version', 'Phi', 'Node id'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [
    `Cluster status as ${status.self} sees it`,
    'Status=Up/Down/Left; State=Normal/Joining/Leaving',
    line(header),
    ...rows.map(line),
  ].join('\n');
}
