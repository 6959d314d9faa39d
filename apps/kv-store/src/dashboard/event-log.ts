export interface LoggedEvent {
  seq: number;
  at: number;
  type: string;
  nodeId: string;
  detail?: string;
}

/** The most recent events, oldest dropped first: bounded, whatever happens to the cluster. */
export class EventLog {
  private readonly events: LoggedEvent[] = [];
  private nextSeq = 1;

  constructor(private readonly capacity: number) {}

  add(at: number, type: string, nodeId: string, detail?: string): LoggedEvent {
    const event: LoggedEvent = { seq: this.nextSeq++, at, type, nodeId, ...(detail === undefined ? {} : { detail }) };
    this.events.push(event);
    if (this.events.length > this.capacity) this.events.splice(0, this.events.length - this.capacity);
    return event;
  }

  /** Events after `seq` (all held when 0), oldest first, at most `limit` of the newest. */
  since(seq = 0, limit = this.capacity): LoggedEvent[] {
    const after = this.events.filter((e) => e.seq > seq);
    return after.slice(Math.max(0, after.length - limit));
  }
}
