import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { formatHostPort } from '../common/host-port.js';
import type { LocalNode } from '../common/local-node.js';
import { ELASTICA_OPTIONS, LOCAL_NODE } from '../elastica.constants.js';
import type { GossipChannel } from '../network/gossip-channel.js';
import type { ResolvedElasticaOptions } from '../options/elastica-options.js';
import { ConnectionRegistry, type ConnectionInfo, type TransportStats } from './connection-registry.js';
import type { InboundCall, RpcCall } from './inbound-call.js';
import { DRAINING_CODE } from '../errors/node-draining.error.js';
import type { OutboundCall } from './peer.js';
import type { InboundObserver } from '../client/call-observer.js';

/** Who answers calls and events from peers: the Nest strategy (ElasticaTransport) once it listens. */
export interface RpcDispatcher {
  request(call: RpcCall): void;
  event(sender: string, pattern: string, data: unknown): void;
}

/**
 * The node's TCP endpoint, started with the module (gossip needs it whether or not the user connects
 * the microservice) and closed on shutdown. It is the GossipChannel, and the wire under ClusterClient
 * and ElasticaTransport.
 */
@Injectable()
export class TransportService implements GossipChannel, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Elastica:Transport');
  private readonly registry: ConnectionRegistry;
  private gossipHandler: ((from: string, bytes: Uint8Array) => void) | undefined;
  private selfAddressHandler: ((address: string) => void) | undefined;
  private readonly selfAddresses: string[] = [];
  private dispatcher: RpcDispatcher | undefined;
  private adminHandler: ((call: RpcCall) => void) | undefined;
  private inboundObserver: InboundObserver | undefined;
  private boundPort = 0;
  private draining = false;
  private starting: Promise<void> | undefined;

  constructor(
    @Inject(ELASTICA_OPTIONS) private readonly options: ResolvedElasticaOptions,
    @Inject(LOCAL_NODE) private readonly local: LocalNode,
  ) {
    this.registry = new ConnectionRegistry(
      {
        cluster: options.cluster,
        nodeId: local.id,
        generation: local.generation,
        get advertise() {
          return formatHostPort(local.address);
        },
        secret: options.secret,
        nodeIdInCertificate: options.tls?.nodeIdInCertificate === true,
        protocols: options.rpc.protocolVersions,
      },
      options.rpc,
      {
        gossip: (from, bytes) => this.onGossip(from, bytes),
        request: (call) => this.onRequest(call),
        event: (sender, pattern, data) => this.onEvent(sender, pattern, data),
        selfAddress: (address) => this.onSelfAddressFound(address),
        admin: (call) => {
          if (this.adminHandler) this.adminHandler(call);
          else call.error({ message: 'this node serves no admin requests' });
        },
      },
      { log: (m) => this.logger.log(m), warn: (m) => this.logger.warn(m), debug: (m) => this.logger.debug(m) },
      Math.random,
      options.tls,
    );
  }

  async onModuleInit(): Promise<void> {
    await this.start();
  }

  /** Idempotent: the listener starts once, whoever asks first. */
  start(): Promise<void> {
    this.starting ??= (async () => {
      this.boundPort = await this.registry.listen(this.options.bind);
      // Port 0 (tests): the advertised port is the one the kernel picked.
      if (this.local.address.port === 0) this.local.address.port = this.boundPort;
      this.logger.log(
        `node ${this.local.id} listening on ${formatHostPort({ ...this.options.bind, port: this.boundPort })}, advertised as ${this.address}`,
      );
    })();
    return this.starting;
  }

  async onModuleDestroy(): Promise<void> {
    await this.registry.close();
  }

  /** The bound port (useful with bind port 0). */
  get port(): number {
    return this.boundPort;
  }

  /** This node's advertised "host:port". */
  get address(): string {
    return formatHostPort(this.local.address);
  }

  // ---- GossipChannel ---------------------------------------------------------------------------

  send(to: string, bytes: Uint8Array): void {
    if (to === this.address) return;
    this.registry.sendGossip(to, bytes);
  }

  onMessage(handler: (from: string, bytes: Uint8Array) => void): void {
    this.gossipHandler = handler;
  }

  onSelfAddress(handler: (address: string) => void): void {
    this.selfAddressHandler = handler;
    for (const address of this.selfAddresses.splice(0)) this.tellSelfAddress(address);
  }

  private onSelfAddressFound(address: string): void {
    // Bounded like the registry's own list: these are addresses this node chose to dial.
    if (!this.selfAddressHandler) {
      if (this.selfAddresses.length < 16) this.selfAddresses.push(address);
      return;
    }
    this.tellSelfAddress(address);
  }

  private tellSelfAddress(address: string): void {
    try {
      this.selfAddressHandler?.(address);
    } catch (error) {
      this.logger.warn(`self-address handler failed on ${address}: ${(error as Error).message}`);
    }
  }

  reset(to: string, reason: string): void {
    this.registry.reset(to, reason);
  }

  private onGossip(from: string, bytes: Uint8Array): void {
    try {
      this.gossipHandler?.(from, bytes);
    } catch (error) {
      this.logger.warn(`gossip handler failed on a message from ${from}: ${(error as Error).message}`);
    }
  }

  // ---- RPC ---------------------------------------------------------------------------------------

  /** Watches the requests peers make of this node (tracing); undefined removes it. */
  setInboundObserver(observer: InboundObserver | undefined): void {
    this.inboundObserver = observer;
  }

  /** Where requests of admin clients (the `elastica` CLI) go: the AdminService's handlers. */
  setAdminHandler(handler: ((call: RpcCall) => void) | undefined): void {
    this.adminHandler = handler;
  }

  setDispatcher(dispatcher: RpcDispatcher | undefined): void {
    this.dispatcher = dispatcher;
  }

  getDispatcher(): RpcDispatcher | undefined {
    return this.dispatcher;
  }

  call(address: string, pattern: string, data: unknown, call: OutboundCall): () => void {
    return this.registry.call(address, pattern, data, call);
  }

  /** Dials `address` unless connected; resolves with the node id its handshake gave. */
  connect(address: string): Promise<string> {
    return this.registry.connect(address);
  }

  emit(address: string, nodeId: string, pattern: string, data: unknown): void {
    this.registry.emit(address, nodeId, pattern, data);
  }

  /**
   * From now on, new calls from peers are refused with a draining error (NodeDrainingError at the
   * caller, which may retry elsewhere: the call was not run); calls already running go on. Gossip and
   * events still flow, so the node can leave properly.
   */
  drain(): void {
    this.draining = true;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Calls from peers still being answered. */
  get inboundInFlight(): number {
    return this.registry.inboundInFlight;
  }

  private onRequest(call: InboundCall): void {
    if (this.draining) {
      call.error({
        status: 'error',
        code: DRAINING_CODE,
        message: `node ${this.local.id} is shutting down and takes no new calls`,
      });
      return;
    }
    if (!this.dispatcher) {
      call.error({
        status: 'error',
        message: `node ${this.local.id} serves no cluster handlers (ElasticaTransport is not listening)`,
      });
      return;
    }
    const dispatcher = this.dispatcher;
    if (this.inboundObserver) this.inboundObserver.serve(call, () => dispatcher.request(call));
    else dispatcher.request(call);
  }

  private onEvent(sender: string, pattern: string, data: unknown): void {
    if (!this.dispatcher) {
      this.logger.debug(`event ${pattern} from ${sender} dropped: ElasticaTransport is not listening`);
      return;
    }
    this.dispatcher.event(sender, pattern, data);
  }

  // ---- introspection -----------------------------------------------------------------------------

  /** Refusal counters by reason, connections, queues. */
  stats(): TransportStats {
    return this.registry.stats();
  }

  connections(): ConnectionInfo[] {
    return this.registry.connections();
  }

  /** The address of a node this node has a connection with (known from its handshake). */
  addressOf(nodeId: string): string | undefined {
    return this.registry.addressOf(nodeId);
  }

  isConnected(nodeId: string): boolean {
    return this.registry.isConnected(nodeId);
  }

  /** The wire-protocol version negotiated with `nodeId` (see ConnectionRegistry.protocolOf). */
  protocolOf(nodeId: string): number | undefined {
    return this.registry.protocolOf(nodeId);
  }

  connectedNodeIds(): string[] {
    return this.registry.connectedNodeIds();
  }
}
