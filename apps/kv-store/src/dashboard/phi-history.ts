/** One sample of a member: when, its phi (null: not measurable) and its status then. */
export type PhiSample = [at: number, phi: number | null, status: string];

/** phi and status of every member over the last `capacity` samples, for the dashboard's charts. */
export class PhiHistory {
  private readonly series = new Map<string, PhiSample[]>();

  constructor(private readonly capacity: number) {}

  /** Records one sample per current member; members no longer listed are forgotten (bounded memory). */
  record(at: number, members: readonly { id: string; phi: number | null; status: string }[]): void {
    const present = new Set<string>();
    for (const m of members) {
      present.add(m.id);
      let list = this.series.get(m.id);
      if (list === undefined) this.series.set(m.id, (list = []));
      list.push([at, m.phi, m.status]);
      if (list.length > this.capacity) list.splice(0, list.length - this.capacity);
    }
    for (const id of this.series.keys()) if (!present.has(id)) this.series.delete(id);
  }

  snapshot(): Record<string, PhiSample[]> {
    return Object.fromEntries([...this.series].map(([id, list]) => [id, list.slice()]));
  }
}
