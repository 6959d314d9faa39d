import { Inject, Injectable, Logger } from '@nestjs/common';
import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import { isObservable } from 'rxjs';
import type { LocalNode } from '../common/local-node.js';
import type { RpcCall } from '../transport/inbound-call.js';
import { TransportService, type RpcDispatcher } from '../transport/transport.service.js';
import { ClusterContext } from './cluster-context.js';
import { CLUSTER_HANDLER, ELASTICA_TRANSPORT, LOCAL_NODE } from '../elastica.constants.js';

/** An error as the caller receives it: always with a message. */
function errorShape(error: unknown): unknown {
  if (error instanceof Error) return { name: error.name, message: error.message };
  if (error !== null && typeof error === 'object') return error;
  return { message: String(error) };
}

/**
 * The Nest custom transport strategy of the cluster:
 * `app.connectMicroservice({ strategy: app.get(ElasticaTransport) })`. It accepts only handlers
 * declared with @ClusterMessage / @ClusterEvent (they carry its transportId, so other transports skip
 * them; and it skips plain @MessagePattern handlers other transports serve). The TCP endpoint itself
 * belongs to TransportService and runs with the module; listen() only starts dispatching to handlers.
 */
@Injectable()
export class ElasticaTransport extends Server implements CustomTransportStrategy, RpcDispatcher {
  override transportId = ELASTICA_TRANSPORT;
  private readonly log = new Logger('Elastica:Rpc');

  constructor(
    private readonly transport: TransportService,
    @Inject(LOCAL_NODE) private readonly local: LocalNode,
  ) {
    super();
  }

  listen(callback: (error?: unknown) => void): void {
    this.transport.start().then(
      () => {
        this.transport.setDispatcher(this);
        this.log.log(`serving ${this.messageHandlers.size} cluster pattern(s) on node ${this.local.id}`);
        callback();
      },
      (error: unknown) => callback(error),
    );
  }

  close(): void {
    if (this.transport.getDispatcher() === this) this.transport.setDispatcher(undefined);
  }

  on(): void {
    // No events of its own: connection events are logged by the transport.
  }

  unwrap<T>(): T {
    return this.transport as T;
  }

  override addHandler(
    pattern: unknown,
    callback: MessageHandler,
    isEventHandler = false,
    extras: Record<string, unknown> = {},
  ): void {
    if (!extras?.[CLUSTER_HANDLER]) {
      this.log.debug(
        `not serving ${JSON.stringify(pattern)} to peers: only @ClusterMessage/@ClusterEvent handlers are`,
      );
      return;
    }
    super.addHandler(pattern, callback, isEventHandler, extras);
  }

  request(call: RpcCall): void {
    const handler = this.messageHandlers.get(call.pattern);
    if (!handler || handler.isEventHandler) {
      call.error({
        status: 'error',
        message: `no @ClusterMessage handler for pattern "${call.pattern}" on node ${this.local.id}`,
      });
      return;
    }
    let result: unknown;
    try {
      result = handler(call.data, new ClusterContext([call.sender, call.pattern]));
    } catch (error) {
      call.error(errorShape(error));
      return;
    }
    if (result instanceof Promise)
      result.then(
        (value) => this.answer(call, value),
        (error: unknown) => call.error(errorShape(error)),
      );
    else this.answer(call, result);
  }

  private answer(call: RpcCall, value: unknown): void {
    if (call.done) return;
    if (!isObservable(value)) {
      call.reply(value);
      return;
    }
    const subscription = value.subscribe({
      next: (v) => call.next(v),
      error: (error: unknown) => call.error(errorShape(error)),
      complete: () => call.complete(),
    });
    if (call.done) subscription.unsubscribe();
    else call.onCancel = () => subscription.unsubscribe();
  }

  event(sender: string, pattern: string, data: unknown): void {
    const handler = this.messageHandlers.get(pattern);
    if (!handler || !handler.isEventHandler) {
      this.log.debug(`no @ClusterEvent handler for "${pattern}" (from ${sender})`);
      return;
    }
    const report = (error: unknown) =>
      this.log.error(
        `@ClusterEvent ${pattern} from ${sender} failed: ${(errorShape(error) as { message?: string }).message}`,
      );
    try {
      Promise.resolve(handler(data, new ClusterContext([sender, pattern]))).then((result) => {
        if (isObservable(result)) result.subscribe({ error: report });
      }, report);
    } catch (error) {
      report(error);
    }
  }
}
