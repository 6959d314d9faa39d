import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { firstValueFrom } from 'rxjs';
import { ClusterMessage, GossipService } from 'elastica';
import { ElasticaTracing } from 'elastica/tracing';
import { closeStartedNodes, startTrackedNode, type TestNode } from '../support/elastica-node.js';
import { until } from '../support/until.js';

/** The span the handler ran in, as it saw it (the server span, if tracing works). */
@Controller()
class TracedHandlers {
  @ClusterMessage('traced.where')
  async where(@Payload() text: string) {
    await new Promise((resolve) => setImmediate(resolve)); // the context must survive an async hop
    const span = trace.getActiveSpan()?.spanContext();
    return { text, traceId: span?.traceId ?? null, spanId: span?.spanId ?? null };
  }
}

interface Where {
  text: string;
  traceId: string | null;
  spanId: string | null;
}

/**
 * One trace across two nodes with the OpenTelemetry SDK's in-memory exporter: real nodes on loopback in
 * this process (they share the SDK, as two services exporting to one collector would).
 */
describe('tracing: a cluster call is one trace across two nodes', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const contextManager = new AsyncLocalStorageContextManager();
  let a: TestNode;
  let b: TestNode;
  let old: TestNode;

  beforeAll(async () => {
    trace.setGlobalTracerProvider(provider);
    context.setGlobalContextManager(contextManager.enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const gossip = { intervalMs: 100 };
    a = await startTrackedNode('trace-a', { gossip }, [TracedHandlers]);
    b = await startTrackedNode('trace-b', { gossip, seeds: [a.address] }, [TracedHandlers]);
    // A node of the version before trace contexts: it must get plain requests.
    old = await startTrackedNode(
      'trace-old',
      { gossip, seeds: [a.address], rpc: { protocolVersions: { min: 1, max: 1 } } },
      [TracedHandlers],
    );
    for (const node of [a, b, old]) {
      new ElasticaTracing({ client: node.client, transport: node.transport }).register();
      await until(
        `${node.id} sees three up`,
        () =>
          node.app
            .get(GossipService)
            .members()
            .filter((m) => m.status === 'up').length === 3,
        20_000,
        50,
      );
    }
  }, 60_000);

  afterAll(async () => {
    await closeStartedNodes();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  it('the client span on one node, the server span (child of it) on the other, the handler inside it', async () => {
    await firstValueFrom(a.client.send(b.id, 'traced.where', 'warm-up')); // the connection, and its protocol
    expect(a.transport.protocolOf(b.id)).toBe(2);
    exporter.reset();
    const parent = trace.getTracer('test').startSpan('request');
    const where = await context.with(trace.setSpan(context.active(), parent), () =>
      firstValueFrom(a.client.send<Where>(b.id, 'traced.where', 'hello')),
    );
    parent.end();
    const spans = await until(
      'both spans exported',
      () => {
        const all = exporter.getFinishedSpans();
        return all.filter((s) => s.name === 'traced.where').length === 2 && all;
      },
      10_000,
      20,
    );
    const byKind = (kind: SpanKind): ReadableSpan => spans.find((s) => s.name === 'traced.where' && s.kind === kind)!;
    const client = byKind(SpanKind.CLIENT);
    const server = byKind(SpanKind.SERVER);
    const traceId = parent.spanContext().traceId;
    expect(client.spanContext().traceId).toBe(traceId);
    expect(server.spanContext().traceId).toBe(traceId);
    expect(client.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(server.parentSpanContext?.spanId).toBe(client.spanContext().spanId);
    expect(where).toEqual({ text: 'hello', traceId, spanId: server.spanContext().spanId });
    expect(client.attributes).toMatchObject({ 'rpc.system': 'elastica', 'elastica.peer': b.id });
    expect(server.attributes).toMatchObject({ 'elastica.caller': a.id });
  });

  it('sends no trace context to a peer whose protocol predates it: its server span starts a trace of its own', async () => {
    await firstValueFrom(a.client.send(old.id, 'traced.where', 'warm-up'));
    expect(a.transport.protocolOf(old.id)).toBe(1);
    exporter.reset();
    const parent = trace.getTracer('test').startSpan('request');
    const where = await context.with(trace.setSpan(context.active(), parent), () =>
      firstValueFrom(a.client.send<Where>(old.id, 'traced.where', 'hello')),
    );
    parent.end();
    expect(where.traceId).not.toBeNull();
    expect(where.traceId).not.toBe(parent.spanContext().traceId);
  });
});
