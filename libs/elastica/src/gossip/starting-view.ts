import { EndpointState } from './endpoint-state.js';
import type { ViewEntry } from './gossip.types.js';
import { VERDICTS_KEY } from './verdicts.js';

/**
 * The endpoint one entry of an arbitrary starting view describes, as if learned at `nowMs`, and the
 * verdicts value its state holds, if any (docs/ARCHITECTURE.md, Gossip › Self-stabilization).
 */
export function endpointFromView(entry: ViewEntry, nowMs: number): { endpoint: EndpointState; verdicts?: string } {
  const endpoint = new EndpointState(entry.id, entry.address, entry.generation, entry.status);
  let verdicts: string | undefined;
  endpoint.heartbeat = entry.heartbeat;
  endpoint.maxVersion = entry.heartbeat;
  for (const [key, { value, version }] of Object.entries(entry.state ?? {})) {
    endpoint.put(key, value, version);
    endpoint.maxVersion = Math.max(endpoint.maxVersion, version);
    if (key === VERDICTS_KEY) verdicts = value;
  }
  if (endpoint.heartbeat === endpoint.maxVersion && endpoint.keys.size > 0) endpoint.maxVersion++;
  endpoint.lastNewsAt = nowMs;
  endpoint.learnedAt = nowMs;
  endpoint.heartbeatFed = endpoint.heartbeat;
  endpoint.relayFed = endpoint.heartbeat;
  if (entry.status === 'left') endpoint.leftSince = nowMs;
  if (entry.down && entry.status !== 'left') {
    endpoint.down = true;
    endpoint.downSince = nowMs;
    endpoint.heartbeatAtConviction = endpoint.heartbeat;
  }
  return { endpoint, verdicts };
}
