import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { ClusterContext, ClusterMessage } from 'elastica';
import { KvStoreService } from '../kv/kv-store.service.js';
import {
  KV_GET,
  KV_PUT,
  KV_SYNC_DIGEST,
  KV_SYNC_OFFER,
  KV_SYNC_PULL,
  KV_SYNC_PUSH,
} from '../replication/kv-messages.js';

/** The replica side of the store, served to peers over the Elastica transport. */
@Controller()
export class KvPeerController {
  constructor(private readonly store: KvStoreService) {}

  @ClusterMessage(KV_PUT)
  put(@Payload() message: unknown) {
    return this.store.node.onPut(message);
  }

  @ClusterMessage(KV_GET)
  get(@Payload() message: unknown) {
    return this.store.node.onGet(message);
  }

  @ClusterMessage(KV_SYNC_DIGEST)
  digest(@Payload() message: unknown, @Ctx() ctx: ClusterContext) {
    return this.store.node.onDigest(ctx.getSender(), message);
  }

  @ClusterMessage(KV_SYNC_PULL)
  pull(@Payload() message: unknown) {
    return this.store.node.onPull(message);
  }

  @ClusterMessage(KV_SYNC_OFFER)
  offer(@Payload() message: unknown) {
    return this.store.node.onOffer(message);
  }

  @ClusterMessage(KV_SYNC_PUSH)
  push(@Payload() message: unknown) {
    return this.store.node.onPush(message);
  }
}
