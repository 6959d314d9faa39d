import { Injectable } from '@nestjs/common';
import { Observable, throwError } from 'rxjs';

// PLACEHOLDER until the transport branch lands (same file, same public names): no peer is reachable.
export interface ClusterCallOptions { timeoutMs?: number }

@Injectable()
export class ClusterClient {
  send<T = unknown>(nodeId: string, pattern: string | Record<string, unknown>, _data: unknown, _opts?: ClusterCallOptions): Observable<T> {
    return throwError(() => new Error(`placeholder ClusterClient: cannot send ${JSON.stringify(pattern)} to ${nodeId}`));
  }
  emit(nodeId: string, pattern: string | Record<string, unknown>, _data: unknown): Observable<void> {
    return throwError(() => new Error(`placeholder ClusterClient: cannot emit ${JSON.stringify(pattern)} to ${nodeId}`));
  }
  sendToOwner<T = unknown>(key: string, pattern: string | Record<string, unknown>, _data: unknown, _opts?: ClusterCallOptions): Observable<T> {
    return throwError(() => new Error(`placeholder ClusterClient: cannot send ${JSON.stringify(pattern)} for ${key}`));
  }
  broadcast(_pattern: string | Record<string, unknown>, _data: unknown): string[] {
    return [];
  }
}
