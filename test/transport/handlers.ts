import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload, Transport } from '@nestjs/microservices';
import { Observable, finalize, interval, map, take } from 'rxjs';
import { ClusterContext, ClusterEvent, ClusterMessage } from 'elastica';

/** The handlers the transport tests call: one of each kind a user writes. */
@Controller()
export class TestHandlers {
  events: string[] = [];
  cancelled = 0;
  started = 0;

  @ClusterMessage('echo')
  echo(@Payload() data: unknown, @Ctx() ctx: ClusterContext) {
    return { data, sender: ctx.getSender(), pattern: ctx.getPattern() };
  }

  @ClusterMessage({ cmd: 'double' })
  async double(@Payload() n: number) {
    await new Promise((resolve) => setImmediate(resolve));
    return n * 2;
  }

  @ClusterMessage('count')
  count(@Payload() n: number) {
    return interval(5).pipe(
      take(n),
      map((i) => i + 1),
    );
  }

  /** Ticks every 20 ms and never completes on its own: each value must reach the caller as it is made. */
  @ClusterMessage('ticks')
  ticks() {
    this.started++;
    return interval(20).pipe(finalize(() => this.cancelled++));
  }

  @ClusterMessage('fail')
  fail(@Payload() key: string): never {
    throw new Error(`no such key: ${key}`);
  }

  @ClusterMessage('fail.async')
  async failAsync() {
    await new Promise((resolve) => setImmediate(resolve));
    throw new TypeError('async failure');
  }

  @ClusterMessage('nothing')
  nothing(): void {}

  @ClusterMessage('bytes')
  bytes(@Payload() data: Buffer) {
    return Buffer.from([...data].reverse());
  }

  /** Never answers on its own; counts the cancellations that reach it. */
  @ClusterMessage('hang')
  hang() {
    return new Observable<string>(() => {
      this.started++;
      return () => {
        this.cancelled++;
      };
    });
  }

  @ClusterEvent('note')
  note(@Payload() text: string, @Ctx() ctx: ClusterContext) {
    this.events.push(`${text} from ${ctx.getSender()}`);
  }

  /** A handler of Nest's TCP transport: cluster peers must never reach it. */
  @MessagePattern('tcp.only', Transport.TCP)
  tcpOnly() {
    return 'tcp';
  }

  /** An event handler of Nest's TCP transport: cluster events must never reach it. */
  @EventPattern('tcp.event', Transport.TCP)
  tcpEvent(@Payload() text: string) {
    this.events.push(`tcp.event ${text}`);
  }

  /** A plain @EventPattern: Nest's own transports only. */
  @EventPattern('plain.event')
  plainEvent(@Payload() text: string) {
    this.events.push(`plain.event ${text}`);
  }

  /** A plain @MessagePattern (no transport): served by Nest's own transports, not to cluster peers. */
  @MessagePattern('plain')
  plain() {
    return 'plain';
  }
}
