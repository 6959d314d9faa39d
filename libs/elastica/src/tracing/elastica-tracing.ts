import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { CallOutcome, CallWatch, ObservedInboundCall } from '../client/call-observer.js';
import type { ClusterClient } from '../client/cluster-client.js';
import { LIBRARY_VERSION } from '../elastica.constants.js';
import type { TransportService } from '../transport/transport.service.js';

export interface ElasticaTracingOptions {
  /** The tracer's name; default "elastica". */
  tracerName?: string;
}

export interface ElasticaTracingSources {
  client: ClusterClient;
  transport: TransportService;
}

function messageOf(error: unknown): string | undefined {
  if (error instanceof Error) return error.message;
  if (error !== null && typeof error === 'object' && typeof (error as { message?: unknown }).message === 'string')
    return (error as { message: string }).message;
  return undefined;
}

function finish(span: Span, outcome: CallOutcome | 'error', error: unknown): void {
  span.setAttribute('elastica.outcome', outcome);
  if (outcome !== 'ok' && outcome !== 'cancelled') {
    span.setStatus({ code: SpanStatusCode.ERROR, message: messageOf(error) ?? outcome });
    if (error instanceof Error) span.recordException(error);
  }
  span.end();
}

/**
 * OpenTelemetry spans for cluster calls, with `@opentelemetry/api` only: a `ClusterClient.send` opens a
 * client span, its context travels in the request (to peers whose protocol reads it, version 2 and
 * above), and the handler on the far side runs inside a server span, child of the client's. Without a
 * registered SDK the API's tracer is a no-op: a call then costs one non-recording span and nothing is
 * sent on the wire.
 */
export class ElasticaTracing {
  private readonly tracer: Tracer;
  private readonly cleanups: (() => void)[] = [];

  constructor(
    private readonly sources: ElasticaTracingSources,
    options: ElasticaTracingOptions = {},
  ) {
    this.tracer = trace.getTracer(options.tracerName ?? 'elastica', LIBRARY_VERSION);
  }

  register(): void {
    const { client, transport } = this.sources;
    this.cleanups.push(client.addObserver({ start: (nodeId, pattern) => this.clientSpan(nodeId, pattern) }));
    transport.setInboundObserver({ serve: (call, dispatch) => this.serverSpan(call, dispatch) });
    this.cleanups.push(() => transport.setInboundObserver(undefined));
  }

  unregister(): void {
    for (const cleanup of this.cleanups.splice(0)) cleanup();
  }

  private clientSpan(nodeId: string, pattern: string): CallWatch | undefined {
    const span = this.tracer.startSpan(pattern, {
      kind: SpanKind.CLIENT,
      attributes: { 'rpc.system': 'elastica', 'rpc.method': pattern, 'elastica.peer': nodeId },
    });
    if (!trace.isSpanContextValid(span.spanContext())) return undefined; // no SDK: nothing to record or send
    const carrier: Record<string, string> = {};
    propagation.inject(trace.setSpan(context.active(), span), carrier);
    const traceContext =
      carrier.traceparent === undefined
        ? undefined
        : carrier.tracestate
          ? `${carrier.traceparent}\n${carrier.tracestate}`
          : carrier.traceparent;
    return { traceContext, end: (outcome, error) => finish(span, outcome, error) };
  }

  private serverSpan(call: ObservedInboundCall, dispatch: () => void): void {
    let parent = context.active();
    if (call.traceContext !== undefined) {
      const [traceparent, tracestate] = call.traceContext.split('\n');
      const carrier: Record<string, string> = { traceparent };
      if (tracestate) carrier.tracestate = tracestate;
      parent = propagation.extract(ROOT_CONTEXT, carrier);
    }
    const span = this.tracer.startSpan(
      call.pattern,
      {
        kind: SpanKind.SERVER,
        attributes: { 'rpc.system': 'elastica', 'rpc.method': call.pattern, 'elastica.caller': call.sender },
      },
      parent,
    );
    if (!trace.isSpanContextValid(span.spanContext())) {
      dispatch();
      return;
    }
    call.onEnd = (outcome, error) => finish(span, outcome, error);
    context.with(trace.setSpan(parent, span), dispatch);
  }
}
