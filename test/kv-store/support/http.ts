export interface HttpReply {
  status: number;
  text: string;
  headers: Headers;
}

/** One HTTP request with a timeout; a refused connection is an error the caller sees. */
export async function http(
  method: string,
  url: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<HttpReply> {
  const res = await fetch(url, { method, body, headers, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

export async function json<T>(url: string): Promise<T> {
  const reply = await http('GET', url);
  if (reply.status !== 200) throw new Error(`GET ${url} answered ${reply.status}: ${reply.text}`);
  return JSON.parse(reply.text) as T;
}

/**
 * Polls `probe` until it returns something other than undefined/false, or fails after `timeoutMs`
 * with what was awaited and the last thing the probe saw or threw. Never sleep-then-assert.
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = 'never probed';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      last = value;
    } catch (error) {
      last = error instanceof Error ? error.message : error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what} (last: ${typeof last === 'string' ? last : JSON.stringify(last)})`,
      );
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Runs `task` over `items` with at most `limit` at once; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await task(items[i], i);
      }
    }),
  );
  return out;
}

export interface ClusterView {
  self: string;
  members: { id: string; address: string; status: string; phi: number | null; generation: number }[];
  ring: { ownership: Record<string, number> };
}
