/**
 * The base of every error Elastica raises for a cluster condition (an unreachable node, a timeout, a refused frame,
 * an empty ring, a bad option), so callers can tell them apart with instanceof. A programming error in an argument
 * (`GossipService.set` with a reserved key, say) stays a TypeError or RangeError, as in Node.
 */
export class ElasticaError extends Error {
  override name = 'ElasticaError';
}

/** The node id is not a member this node knows of, and no connection was ever established with it. */
export class UnknownNodeError extends ElasticaError {
  override name = 'UnknownNodeError';
  constructor(readonly nodeId: string) {
    super(`unknown node ${JSON.stringify(nodeId)}: not a member and never connected`);
  }
}

/** The node is known but cannot be reached now: down, left, refused us, or the connection was lost. */
export class NodeUnavailableError extends ElasticaError {
  override name = 'NodeUnavailableError';
  constructor(
    readonly nodeId: string,
    readonly reason: string,
  ) {
    super(`node ${nodeId} is unavailable: ${reason}`);
  }
}

/** No reply (or no next value of a stream) within the call's timeout; the far side was told to cancel. */
export class RpcTimeoutError extends ElasticaError {
  override name = 'RpcTimeoutError';
  constructor(
    readonly nodeId: string,
    readonly pattern: string,
    readonly timeoutMs: number,
  ) {
    super(`${pattern} on node ${nodeId} timed out after ${timeoutMs} ms`);
  }
}

/** The remote handler failed; `message` is the remote error's message, `remote` the error as sent. */
export class RemoteError extends ElasticaError {
  override name = 'RemoteError';
  constructor(
    readonly nodeId: string,
    readonly pattern: string,
    message: string,
    readonly remote: unknown,
  ) {
    super(message);
  }
}

/** The bounded outbound queue to a peer (bytes, or requests in flight) is full; nothing was sent. */
export class QueueFullError extends ElasticaError {
  override name = 'QueueFullError';
  constructor(
    readonly peer: string,
    what: string,
  ) {
    super(`outbound queue to ${peer} is full (${what}); the message was not sent`);
  }
}

/** A frame would exceed `rpc.maxFrameBytes`; nothing was sent (or the connection that sent it was closed). */
export class FrameTooLargeError extends ElasticaError {
  override name = 'FrameTooLargeError';
  constructor(
    readonly bytes: number,
    readonly maxFrameBytes: number,
  ) {
    super(`frame of ${bytes} bytes exceeds rpc.maxFrameBytes (${maxFrameBytes})`);
  }
}

/** Bytes on a connection that are not a valid frame; the connection is closed. */
export class MalformedFrameError extends ElasticaError {
  override name = 'MalformedFrameError';
}
