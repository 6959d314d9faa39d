import { All, Controller, Delete, Get, HttpCode, NotFoundException, Param, Put, Req, Res } from '@nestjs/common';
import type { IncomingMessage as Request, ServerResponse as Response } from 'node:http';
import { KvStoreService } from '../kv/kv-store.service.js';
import { checkKey, KV_PUT } from '../replication/kv-messages.js';
import { formatTimestamp } from '../store/hlc.js';
import { MethodNotAllowedException, toHttpError } from './http-errors.js';
import { BodyBudgetError, HttpLimits } from './http-limits.js';
import { readBody } from './read-body.js';

const ALLOWED = ['GET', 'PUT', 'DELETE'];

/** The store's HTTP API: any node serves any key. Keys are one path segment (encode '/' as %2F). */
@Controller('kv')
export class KvController {
  constructor(
    private readonly store: KvStoreService,
    private readonly limits: HttpLimits,
  ) {}

  private key(key: string): string {
    try {
      return checkKey(KV_PUT, key, this.store.node.options);
    } catch (error) {
      throw toHttpError(error);
    }
  }

  @Get(':key')
  async get(@Param('key') rawKey: string, @Res({ passthrough: true }) res: Response): Promise<string> {
    const key = this.key(rawKey);
    const v = await this.store.node.read(key).catch((error: unknown) => {
      throw toHttpError(error);
    });
    if (v === undefined || v.value === null) throw new NotFoundException(`no value for key ${JSON.stringify(key)}`);
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.setHeader('X-Kv-Version', formatTimestamp(v.ts));
    return v.value;
  }

  @Put(':key')
  @HttpCode(204)
  async put(
    @Param('key') rawKey: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<void> {
    const key = this.key(rawKey);
    // The body's bytes count against the node's budget until the write is acknowledged or fails.
    const reservation = this.limits.reserve();
    try {
      let value: string;
      try {
        value = await readBody(req, this.store.node.options.maxValueBytes, reservation);
      } catch (error) {
        // No `Connection: close`: readBody drops the rest of a refused body instead, since closing with it
        // unread would reset the connection under a client still sending it, which may then lose the answer.
        if (error instanceof BodyBudgetError) res.setHeader('Retry-After', '1');
        throw toHttpError(error);
      }
      const result = await this.store.node.write(key, value).catch((error: unknown) => {
        throw toHttpError(error);
      });
      res.setHeader('X-Kv-Version', formatTimestamp(result.ts));
    } finally {
      reservation.release();
    }
  }

  @Delete(':key')
  @HttpCode(204)
  async delete(@Param('key') rawKey: string, @Res({ passthrough: true }) res: Response): Promise<void> {
    const key = this.key(rawKey);
    const result = await this.store.node.write(key, null).catch((error: unknown) => {
      throw toHttpError(error);
    });
    res.setHeader('X-Kv-Version', formatTimestamp(result.ts));
  }

  @All(':key')
  otherMethod(@Req() req: Request, @Res({ passthrough: true }) res: Response): never {
    res.setHeader('Allow', ALLOWED.join(', '));
    throw new MethodNotAllowedException(req.method ?? '?', '/kv/:key', ALLOWED);
  }

  @All()
  noKey(): never {
    throw new NotFoundException('a key is required: use /kv/<key> (encode "/" in a key as %2F)');
  }
}
