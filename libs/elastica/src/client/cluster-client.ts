import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { MsPattern } from '@nestjs/microservices';
import { transformPatternToRoute } from '@nestjs/microservices/utils/index.js';
import { EMPTY, Observable, throwError, type Subscriber } from 'rxjs';
import type { LocalNode } from '../common/local-node.js';
import { RemoteError, RpcTimeoutError } from '../errors/elastica-error.js';
import { isDrainingRefusal, NodeDrainingError } from '../errors/node-draining.error.js';
import { ELASTICA_OPTIONS, LOCAL_NODE } from '../elastica.constants.js';
import type { ResolvedElasticaOptions } from '../options/elastica-options.js';
import { PartitionerService } from '../ring/partitioner.service.js';
import type { RpcCall } from '../transport/inbound-call.js';
import { roundTrip } from '../transport/payload-codec.js';
import type { OutboundCall } from '../transport/peer.js';
import { TransportService } from '../transport/transport.service.js';
import { outcomeOf, type CallObserver, type CallOutcome, type CallWatch } from './call-observer.js';
import { Deadlines, type Expiring } from './deadlines.js';
import { NodeResolver } from './node-resolver.js';

export type ClusterPattern = string | Record<string, unknown>;

export interface ClusterCallOptions {
  /**
   * Longest wait for the reply, or for each next value of a streamed reply, in ms. Default
   * `rpc.timeoutMs`; 0 waits forever.
   */
  timeoutMs?: number;
}

/** The same string Nest's servers key their handlers by, so object patterns match too. */
function toRoute(pattern: ClusterPattern): string {
  return typeof pattern === 'string' ? pattern : transformPatternToRoute(pattern as MsPattern);
}

function remoteMessage(error: unknown): string {
  if (error !== null && typeof error === 'object' && typeof (error as { message?: unknown }).message === 'string') {
    return (error as { message: string }).message;
  }
  return typeof error === 'string' ? error : (JSON.stringify(error) ?? 'remote error');
}

/**
 * One call in flight, seen from the caller: the transport's answers go to the subscriber, and it is
 * also the subscription's teardown (a class rather than closures: this is the hot path).
 */
class PendingCall implements OutboundCall, Expiring {
  cancel: (() => void) | undefined;
  // Deadlines' bookkeeping (see Expiring), initialised here so every PendingCall has one shape.
  deadlineSlot = -1;
  deadlineTimeoutMs = 0;
  deadlineListed = false;
  /** The observers' watches of this call (see CallObserver), ended once. */
  observed: CallWatch[] | undefined = undefined;
  /** What a tracing observer gave to send with the request. */
  traceContext: string | undefined = undefined;
  private timeoutMs = 0;
  constructor(
    private readonly subscriber: Subscriber<unknown>,
    readonly nodeId: string,
    readonly pattern: string,
    private readonly deadlines: Deadlines,
  ) {}

  arm(timeoutMs: number): void {
    this.timeoutMs = timeoutMs;
    this.deadlines.arm(this, timeoutMs);
  }

  expire(): void {
    this.end('timeout');
    this.subscriber.error(new RpcTimeoutError(this.nodeId, this.pattern, this.timeoutMs));
  }

  next(value: unknown): void {
    // Each value of a stream restarts the wait for the next one.
    if (this.deadlineSlot !== -1) this.deadlines.arm(this, this.timeoutMs);
    this.subscriber.next(value);
  }

  reply(value: unknown): void {
    this.stop();
    this.end('ok');
    this.subscriber.next(value);
    this.subscriber.complete();
  }

  complete(): void {
    this.stop();
    this.end('ok');
    this.subscriber.complete();
  }

  error(error: unknown): void {
    this.stop();
    this.end(outcomeOf(error), error);
    this.subscriber.error(error);
  }

  remoteError(error: unknown): void {
    this.stop();
    this.end('remote_error', error);
    if (isDrainingRefusal(error)) return this.subscriber.error(new NodeDrainingError(this.nodeId));
    this.subscriber.error(new RemoteError(this.nodeId, this.pattern, remoteMessage(error), error));
  }

  /** Teardown: runs on unsubscribe, completion, error or timeout. */
  unsubscribe(): void {
    this.stop();
    this.end('cancelled');
    this.cancel?.();
  }

  end(outcome: CallOutcome, error?: unknown): void {
    const observed = this.observed;
    if (observed === undefined) return;
    this.observed = undefined;
    for (const watch of observed) watch.end(outcome, error);
  }

  private stop(): void {
    this.deadlines.disarm(this);
  }
}

/** A call this node makes to itself: the same dispatch, values copied as the wire would. */
class LocalCall implements RpcCall {
  done = false;
  onCancel: (() => void) | undefined;
  constructor(
    readonly pattern: string,
    readonly data: unknown,
    readonly sender: string,
    private readonly sink: OutboundCall,
  ) {}
  next(value: unknown): void {
    if (!this.done) this.sink.next(roundTrip(value));
  }
  reply(value: unknown): void {
    if (this.finish()) this.sink.reply(roundTrip(value));
  }
  complete(): void {
    if (this.finish()) this.sink.complete();
  }
  error(error: unknown): void {
    if (this.finish()) this.sink.remoteError(roundTrip(error));
  }
  cancel(): void {
    if (!this.finish()) return;
    const stop = this.onCancel;
    this.onCancel = undefined;
    stop?.();
  }
  private finish(): boolean {
    if (this.done) return false;
    this.done = true;
    return true;
  }
}

/**
 * Calls to other nodes' @ClusterMessage / @ClusterEvent handlers. `send` is cold, like Nest's
 * ClientProxy: the request leaves on subscribe, and unsubscribing cancels it on the far side.
 * A node that is unknown, down, unreachable or swamped fails at once with a typed ElasticaError.
 */
@Injectable()
export class ClusterClient implements OnModuleDestroy {
  private readonly deadlines = new Deadlines();
  private readonly observers: CallObserver[] = [];

  constructor(
    private readonly resolver: NodeResolver,
    private readonly transport: TransportService,
    private readonly partitioner: PartitionerService,
    @Inject(ELASTICA_OPTIONS) private readonly options: ResolvedElasticaOptions,
    @Inject(LOCAL_NODE) private readonly local: LocalNode,
  ) {}

  send<T = unknown>(nodeId: string, pattern: ClusterPattern, data: unknown, opts?: ClusterCallOptions): Observable<T> {
    return new Observable<T>((subscriber) => {
      const route = toRoute(pattern);
      const timeoutMs = opts?.timeoutMs ?? this.options.rpc.timeoutMs;
      const call = new PendingCall(subscriber, nodeId, route, this.deadlines);
      if (this.observers.length > 0) this.observe(call, nodeId, route);
      try {
        const target = this.resolver.resolve(nodeId);
        call.cancel = target.local
          ? this.callLocal(route, data, call)
          : this.transport.call(target.address, route, data, call);
      } catch (error) {
        call.end(outcomeOf(error), error);
        subscriber.error(error);
        return undefined;
      }
      // Unsubscribing (which a timeout's error triggers) sends the cancel to the far side.
      if (timeoutMs > 0 && Number.isFinite(timeoutMs) && !subscriber.closed) call.arm(timeoutMs);
      return call;
    });
  }

  onModuleDestroy(): void {
    this.deadlines.stop();
  }

  /**
   * Registers `observer` for every `send` from now on (the `elastica/prometheus` metrics, say); returns
   * the function that unregisters it.
   */
  addObserver(observer: CallObserver): () => void {
    this.observers.push(observer);
    return () => {
      const i = this.observers.indexOf(observer);
      if (i !== -1) this.observers.splice(i, 1);
    };
  }

  private observe(call: PendingCall, nodeId: string, route: string): void {
    const watches: CallWatch[] = [];
    for (const observer of this.observers) {
      const watch = observer.start(nodeId, route);
      if (!watch) continue;
      watches.push(watch);
      if (watch.traceContext !== undefined) call.traceContext = watch.traceContext;
    }
    if (watches.length > 0) call.observed = watches;
  }

  /** Fire-and-forget. Sent at once (hot); the Observable completes, or fails with why it could not be sent. */
  emit(nodeId: string, pattern: ClusterPattern, data: unknown): Observable<void> {
    try {
      const route = toRoute(pattern);
      const target = this.resolver.resolve(nodeId);
      if (target.local) this.emitLocal(route, data);
      else this.transport.emit(target.address, nodeId, route, data);
      return EMPTY;
    } catch (error) {
      return throwError(() => error);
    }
  }

  /** `send` to the node that owns `key` on the ring, resolved when the call starts. */
  sendToOwner<T = unknown>(
    key: string,
    pattern: ClusterPattern,
    data: unknown,
    opts?: ClusterCallOptions,
  ): Observable<T> {
    return new Observable<T>((subscriber) =>
      this.send<T>(this.partitioner.getNode(key), pattern, data, opts).subscribe(subscriber),
    );
  }

  /**
   * An event to every live node, this one included. Best effort: returns the ids it was queued for;
   * a node that cannot be reached now is skipped.
   */
  broadcast(pattern: ClusterPattern, data: unknown): string[] {
    const route = toRoute(pattern);
    const reached: string[] = [];
    for (const nodeId of this.resolver.liveNodeIds()) {
      try {
        const target = this.resolver.resolve(nodeId);
        if (target.local) this.emitLocal(route, data);
        else this.transport.emit(target.address, nodeId, route, data);
        reached.push(nodeId);
      } catch {
        // skipped: best effort
      }
    }
    return reached;
  }

  private callLocal(route: string, data: unknown, sink: OutboundCall): () => void {
    const dispatcher = this.transport.getDispatcher();
    if (!dispatcher) {
      sink.remoteError({
        message: `node ${this.local.id} serves no cluster handlers (ElasticaTransport is not listening)`,
      });
      return () => undefined;
    }
    const call = new LocalCall(route, roundTrip(data), this.local.id, sink);
    dispatcher.request(call);
    return () => call.cancel();
  }

  private emitLocal(route: string, data: unknown): void {
    this.transport.getDispatcher()?.event(this.local.id, route, roundTrip(data));
  }
}
