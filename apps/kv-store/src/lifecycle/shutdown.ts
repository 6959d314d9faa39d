import { Injectable } from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';

/** How a part of the app asks main.ts to close the app and exit (after a decommission). */
@Injectable()
export class Shutdown {
  private readonly requests = new Subject<number>();
  readonly requested$: Observable<number> = this.requests.asObservable();

  request(exitCode: number): void {
    this.requests.next(exitCode);
  }
}
