import { Injectable } from '@nestjs/common';
import { Server, type CustomTransportStrategy } from '@nestjs/microservices';
import { ELASTICA_TRANSPORT } from './elastica-transport.token.js';

// PLACEHOLDER until the transport branch lands (same file, same public name): serves no peer at all.
@Injectable()
export class ElasticaTransport extends Server implements CustomTransportStrategy {
  override transportId = ELASTICA_TRANSPORT;
  listen(callback: (error?: unknown) => void): void {
    callback();
  }
  close(): void {}
  on(): void {}
  unwrap<T>(): T {
    return undefined as T;
  }
}
