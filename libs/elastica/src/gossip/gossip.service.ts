import { Inject, Injectable } from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';
import { LOCAL_NODE, type LocalNode } from '../common/local-node.js';

// PLACEHOLDER until issue 3 lands: a cluster of one. It knows only this node and gossips nothing.
@Injectable()
export class GossipService {
  private readonly state = new Map<string, string>();
  readonly events$: Observable<{ type: string; nodeId: string }> = new Subject();
  readonly changes$: Observable<{ nodeId: string; key: string; value: string }> = new Subject();
  constructor(@Inject(LOCAL_NODE) private readonly local: LocalNode) {}
  get localNodeId(): string {
    return this.local.id;
  }
  set(key: string, value: string): void {
    this.state.set(key, value);
  }
  members(): { id: string; address: string; status: string; generation: number; heartbeat: number; state: Record<string, string> }[] {
    return [{ id: this.local.id, address: `${this.local.address.host}:${this.local.address.port}`, status: 'up', generation: this.local.generation, heartbeat: 0, state: Object.fromEntries(this.state) }];
  }
  member(nodeId: string): ReturnType<GossipService['members']>[number] | undefined {
    return nodeId === this.local.id ? this.members()[0] : undefined;
  }
  async leave(): Promise<void> {}
  get(nodeId: string, key: string): string | undefined {
    return nodeId === this.local.id ? this.state.get(key) : undefined;
  }
}
