import type { HostPort } from '../options/elastica-options.js';

/** Who this node is: a stable id, the address peers dial, and the generation of this run. */
export interface LocalNode {
  readonly id: string;
  readonly address: HostPort;
  /** Start time of this run in ms; higher on every restart, which is how peers tell a restart apart. */
  readonly generation: number;
}
