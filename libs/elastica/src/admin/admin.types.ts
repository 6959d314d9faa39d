/** The requests an admin client (the `elastica` CLI) may make; the request's pattern is the command. */
export const ADMIN_COMMANDS = ['status', 'ring', 'gossipinfo', 'leave', 'forget'] as const;
export type AdminCommand = (typeof ADMIN_COMMANDS)[number];

/** `elastica status --json`: one entry per member, as the node asked sees it. */
export interface AdminStatus {
  self: string;
  members: {
    id: string;
    address: string;
    status: string;
    /** Fraction of the key space it owns on the asked node's ring. */
    ownership: number;
    /** The load it reports (PartitionerService.reportLoad), null before any. */
    load: number | null;
    /** The Elastica version it runs, null until known. */
    version: string | null;
    /** Phi as the asked node sees it (0 for itself). */
    phi: number | null;
    generation: number;
  }[];
}
