import { BaseRpcContext } from '@nestjs/microservices';

type ClusterContextArgs = [sender: string, pattern: string];

/** What `@Ctx()` gives a cluster handler: who called, and by which pattern. */
export class ClusterContext extends BaseRpcContext<ClusterContextArgs> {
  /** The calling node's id (this node's own id for a local call). */
  getSender(): string {
    return this.args[0];
  }

  getPattern(): string {
    return this.args[1];
  }
}
