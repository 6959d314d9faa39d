import { EventPattern } from '@nestjs/microservices';
import { CLUSTER_HANDLER, ELASTICA_TRANSPORT } from '../elastica.constants.js';

/** A fire-and-forget handler for peers' events. */
export function ClusterEvent(pattern: string | Record<string, unknown>): MethodDecorator {
  return (target, key, descriptor) => {
    EventPattern(pattern, ELASTICA_TRANSPORT, { [CLUSTER_HANDLER]: true })(target, key, descriptor);
    return descriptor;
  };
}
