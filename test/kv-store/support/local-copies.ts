import { http, json, mapLimit } from './http.js';

/** A running node of the example app: its HTTP base URL and its node id. */
export interface KvNodeRef {
  url: string;
  id: string;
}

/** A node's own copy of a key (`GET /admin/local/:key`); a delete is kept with value null. */
interface LocalCopy {
  value: string | null;
}

/**
 * The keys `node` replicates (by its own ring, `GET /admin/replicas/:key`) whose acknowledged value it
 * does not hold itself (`GET /admin/local/:key`, its own copy: no quorum, so other replicas cannot
 * answer for it). Reads through the node would repair what they touch, so check this before any.
 */
export async function missingOn(
  node: KvNodeRef,
  written: ReadonlyMap<string, string>,
): Promise<{ replicated: number; missing: string[] }> {
  let replicated = 0;
  const missing = await mapLimit([...written], 16, async ([key, value]) => {
    const enc = encodeURIComponent(key);
    const { replicas } = await json<{ replicas: string[] }>(`${node.url}/admin/replicas/${enc}`);
    if (!replicas.includes(node.id)) return undefined;
    replicated++;
    const local = await http('GET', `${node.url}/admin/local/${enc}`);
    return local.status === 200 && (JSON.parse(local.text) as LocalCopy).value === value ? undefined : key;
  });
  return { replicated, missing: missing.filter((k): k is string => k !== undefined) };
}
