import { EventPattern, MessagePattern } from '@nestjs/microservices';
import { ELASTICA_TRANSPORT } from './elastica-transport.token.js';

// PLACEHOLDER until the transport branch lands (same file, same public names).
export function ClusterMessage(pattern: string | Record<string, unknown>): MethodDecorator {
  return MessagePattern(pattern, ELASTICA_TRANSPORT);
}
export function ClusterEvent(pattern: string | Record<string, unknown>): MethodDecorator {
  return EventPattern(pattern, ELASTICA_TRANSPORT);
}
