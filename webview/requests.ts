// Requests that get an answer carry an id that the host echoes in its replies. The newest id of each
// request type is kept: a reply to an older request of that type is stale and dropped, so that a late
// feature-maps reply cannot replace the layer the user has just opened.
import type { HostMessage, RequestType, WebviewRequest } from '../src/shared/protocol';

/** A request as the panel builds it; `send` adds the id. */
export type Unsent<R = WebviewRequest> = R extends unknown ? Omit<R, 'requestId'> : never;

/** The panel's requests in flight, newest per type. */
export class Requests {
  private next: number;
  private readonly newest = new Map<RequestType, number>();

  /**
   * `post` sends a message to the host; ids count up from `first` (the page's load time, so that a reloaded
   * panel never reuses an id a request of the old page may still be answered with).
   */
  constructor(
    private readonly post: (m: WebviewRequest) => void,
    first: number,
  ) {
    this.next = first;
  }

  /** Sends a request; it replaces any earlier request of its type. */
  send(m: Unsent): void {
    const requestId = this.next++;
    this.newest.set(m.type, requestId);
    this.post({ ...m, requestId });
  }

  /** Whether a host message still applies: it was sent unasked, or it answers the newest request of its type. */
  isCurrent(m: HostMessage): boolean {
    const id = 'requestId' in m ? m.requestId : undefined;
    return id === undefined || [...this.newest.values()].includes(id);
  }
}
