import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The preload that answers `retainedMemory` (relative to the repository root, where benches and tests run). */
const HEAP_PROBE = 'tools/bench/load/heap-probe.mjs';

/** Node flags that give a node the heap probe; the process needs an IPC channel (stdio 'ipc'). */
export function heapProbeFlags(): string[] {
  const path = resolve(HEAP_PROBE);
  if (!existsSync(path)) throw new Error(`${HEAP_PROBE} not found: run from the repository root`);
  return ['--expose-gc', '--import', pathToFileURL(path).href];
}

interface HeapAnswer {
  type: string;
  id: number;
  heapUsed?: number;
  external?: number;
  error?: string;
}

let nextId = 0;

export interface RetainedMemory {
  /** V8 heap in use after a full GC: every JS object the node keeps, and its compiled code. */
  heapUsed: number;
  /** Memory outside the V8 heap held by JS objects (Buffers), after the same GC. */
  external: number;
}

/**
 * What a node still uses after a full GC. Unlike RSS this does not depend on how much garbage the node
 * made before (its rate of requests), only on what it keeps.
 */
export function retainedMemory(child: ChildProcess, timeoutMs = 10_000): Promise<RetainedMemory> {
  const id = ++nextId;
  return new Promise((resolvePromise, reject) => {
    const onMessage = (msg: HeapAnswer) => {
      if (msg?.type !== 'elastica-load:heap' || msg.id !== id) return;
      done();
      if (msg.error !== undefined) reject(new Error(`pid ${child.pid}: ${msg.error}`));
      else resolvePromise({ heapUsed: msg.heapUsed ?? 0, external: msg.external ?? 0 });
    };
    const onExit = () => {
      done();
      reject(new Error(`pid ${child.pid} exited before answering the heap probe`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`pid ${child.pid}: no heap probe answer within ${timeoutMs} ms (started without it?)`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
    if (!child.send || !child.connected) {
      done();
      reject(new Error(`pid ${child.pid} has no IPC channel for the heap probe`));
      return;
    }
    child.send({ type: 'elastica-load:heap?', id });
  });
}

export interface HeapCheckpoint {
  /** Seconds since the start of the load. */
  t_s: number;
  /** Requests answered by then (all nodes, errors included). */
  requests: number;
  /** Each node's V8 heap used (MB) after a full GC, taken with the load paused. */
  heap_mb: number[];
  /** Each node's external memory (MB, Buffers) after that GC. Reported, not judged: the replicas'
   *  own traffic (anti-entropy, the third copy of a write) holds 0-1.3 MB of it at any moment. */
  external_mb: number[];
}

export interface RetainedTrend {
  /** Heap used (MB) after a full GC at the checkpoint that closes the first half of the run, and at the end. */
  mid_mb: number;
  end_mb: number;
  /** end − mid: what the node kept over the second half. */
  growth_second_half_mb: number;
  /** Requests the cluster answered over that second half. */
  requests_second_half: number;
  /** growth / requests: what the node keeps per request served; a leak is a steady positive figure. */
  bytes_per_request: number;
}

/**
 * Per node, how the heap used after a full GC moved between the middle checkpoint (half the run) and the end.
 * Measured against requests served, not time: a leak grows with requests, whatever their rate.
 */
export function retainedTrend(checkpoints: HeapCheckpoint[]): RetainedTrend[] {
  if (checkpoints.length < 3) throw new Error(`need at least 3 heap checkpoints, got ${checkpoints.length}`);
  const end = checkpoints[checkpoints.length - 1];
  const mid = checkpoints[Math.floor((checkpoints.length - 1) / 2)];
  const requests = end.requests - mid.requests;
  const r1 = (x: number) => Math.round(x * 10) / 10;
  return end.heap_mb.map((endMb, i) => {
    const growth = endMb - mid.heap_mb[i];
    return {
      mid_mb: mid.heap_mb[i],
      end_mb: endMb,
      growth_second_half_mb: Math.round(growth * 100) / 100,
      requests_second_half: requests,
      bytes_per_request: requests > 0 ? r1((growth * 1048576) / requests) : 0,
    };
  });
}
