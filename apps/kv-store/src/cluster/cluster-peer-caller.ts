import { Injectable } from '@nestjs/common';
import { ClusterClient } from 'elastica';
import { firstValueFrom } from 'rxjs';
import { KV_GET, KV_PUT } from '../replication/kv-messages.js';
import type { PeerCaller } from '../replication/kv-node.js';

/** Quick calls on the request path; anti-entropy batches may carry a megabyte and get longer. */
const TIMEOUTS_MS: Record<string, number> = { [KV_PUT]: 2000, [KV_GET]: 2000 };
const BULK_TIMEOUT_MS = 10_000;

/** The store's peer calls over Elastica's ClusterClient (request/response, one reply each). */
@Injectable()
export class ClusterPeerCaller implements PeerCaller {
  constructor(private readonly client: ClusterClient) {}

  call<T>(nodeId: string, pattern: string, payload: unknown): Promise<T> {
    return firstValueFrom(
      this.client.send<T>(nodeId, pattern, payload, { timeoutMs: TIMEOUTS_MS[pattern] ?? BULK_TIMEOUT_MS }),
    );
  }
}
