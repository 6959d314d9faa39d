import { Inject, Injectable } from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';
import { LOCAL_NODE, type LocalNode } from '../common/local-node.js';

// PLACEHOLDER until the ring branch lands (same file, same public names): a ring of one node, this one.
// Written only so the example app compiles and runs as a one-node cluster on the `app` branch.
export interface TokenRange { start: number; end: number }
export interface RingChange { version: number; checksum: number; previousChecksum: number; moved: { range: TokenRange; from: string | null; to: string | null }[]; nodes: string[] }

@Injectable()
export class PartitionerService {
  readonly ring$: Observable<RingChange> = new Subject<RingChange>();
  constructor(@Inject(LOCAL_NODE) private readonly local: LocalNode) {}
  getNode(_key: string | Uint8Array): string {
    return this.local.id;
  }
  getReplicas(_key: string | Uint8Array, _n?: number): string[] {
    return [this.local.id];
  }
  getRanges(nodeId: string): TokenRange[] {
    return nodeId === this.local.id ? [{ start: 0, end: 0 }] : [];
  }
  getNodeForToken(_token: number): string {
    return this.local.id;
  }
  ownership(): Record<string, number> {
    return { [this.local.id]: 1 };
  }
  isLocal(_key: string | Uint8Array): boolean {
    return true;
  }
}
