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
  members: {
    id: string;
    address: string;
    status: string;
    phi: number | null;
    generation: number;
    /** What it reports to the partitioner: bytes of the keys it is the first replica of. */
    load?: number | null;
  }[];
  ring: {
    ownership: Record<string, number>;
    /** (start, end] as fractions of the ring, per owner. */
    ranges?: Record<string, [number, number][]>;
    /** This node's tokens are settled. */
    ready?: boolean;
  };
}
