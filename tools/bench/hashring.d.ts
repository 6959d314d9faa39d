// The npm package `hashring` (CommonJS, no bundled types): only what the ring bench uses.
declare module 'hashring' {
  class HashRing {
    constructor(servers: string[], algorithm?: string, options?: Record<string, unknown>);
    get(key: string): string;
    /** The continuum: sorted points; a point owns (previous point, point]. */
    ring: { value: number; server: string }[];
  }
  export = HashRing;
}
