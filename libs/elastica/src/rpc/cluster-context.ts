import { BaseRpcContext } from '@nestjs/microservices';

// PLACEHOLDER until the transport branch lands (same file, same public names).
export class ClusterContext extends BaseRpcContext<[sender: string, pattern: string]> {
  getSender(): string {
    return this.args[0];
  }
  getPattern(): string {
    return this.args[1];
  }
}
