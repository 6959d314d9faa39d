import { Inject, Injectable } from '@nestjs/common';
import { LOCAL_NODE, type LocalNode } from '../common/local-node.js';

// PLACEHOLDER until the ring issue lands (its branch replaces this file): a ring of one, so every key
// is owned here. ClusterClient.sendToOwner depends only on getNode(key).
@Injectable()
export class PartitionerService {
  constructor(@Inject(LOCAL_NODE) private readonly local: LocalNode) {}

  getNode(_key: string): string {
    return this.local.id;
  }

  isLocal(key: string): boolean {
    return this.getNode(key) === this.local.id;
  }
}
