import { MessagePattern, RpcException } from '@nestjs/microservices';
import { catchError, isObservable, throwError } from 'rxjs';
import { CLUSTER_HANDLER, ELASTICA_TRANSPORT } from '../elastica.constants.js';

/**
 * Nest's RPC exception filter replaces any error that is not an RpcException by "Internal server
 * error". The contract says the caller gets the handler's own message, so the decorated method is
 * wrapped to turn errors (thrown, rejected or emitted) into RpcExceptions carrying message and name.
 */
function toRpcException(error: unknown): unknown {
  if (error instanceof RpcException) return error;
  if (error instanceof Error) return new RpcException({ status: 'error', name: error.name, message: error.message });
  return new RpcException({
    status: 'error',
    message: typeof error === 'string' ? error : (JSON.stringify(error) ?? String(error)),
  });
}

function keepErrorMessages(descriptor: PropertyDescriptor): PropertyDescriptor {
  const original = descriptor.value as (...args: unknown[]) => unknown;
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    let result: unknown;
    try {
      result = original.apply(this, args);
    } catch (error) {
      throw toRpcException(error);
    }
    if (result instanceof Promise)
      return result.catch((error: unknown) => {
        throw toRpcException(error);
      });
    if (isObservable(result))
      return result.pipe(catchError((error: unknown) => throwError(() => toRpcException(error))));
    return result;
  };
  // Metadata put on the method by decorators applied before this one (guards, pipes...) must follow it.
  for (const key of Reflect.getMetadataKeys(original))
    Reflect.defineMetadata(key, Reflect.getMetadata(key, original), wrapped);
  Object.defineProperty(wrapped, 'name', { value: original.name });
  return { ...descriptor, value: wrapped };
}

/** A request/response handler for peers: return a value, a Promise or an Observable (streamed back). */
export function ClusterMessage(pattern: string | Record<string, unknown>): MethodDecorator {
  return (target, key, descriptor) => {
    const next = keepErrorMessages(descriptor);
    MessagePattern(pattern, ELASTICA_TRANSPORT, { [CLUSTER_HANDLER]: true })(target, key, next);
    return next;
  };
}
