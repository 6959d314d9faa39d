import { request } from 'node:http';

export interface HttpResult {
  status: number;
  body: string;
}

/**
 * One HTTP request on its own connection (no keep-alive: a pooled socket to a node that was killed
 * or stopped would poison the next request). Rejects on a network error or when no answer came
 * within `timeoutMs`.
 */
export function httpRequest(
  method: string,
  url: string,
  opts: { body?: string; timeoutMs?: number } = {},
): Promise<HttpResult> {
  const timeoutMs = opts.timeoutMs ?? 3000;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, agent: false, headers: opts.body === undefined ? {} : { 'content-type': 'text/plain' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
      },
    );
    const timer = setTimeout(
      () => req.destroy(new Error(`${method} ${url}: no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end(opts.body);
  });
}

export async function getJson<T>(url: string, timeoutMs?: number): Promise<T> {
  const res = await httpRequest('GET', url, { timeoutMs });
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${res.body.slice(0, 200)}`);
  return JSON.parse(res.body) as T;
}
