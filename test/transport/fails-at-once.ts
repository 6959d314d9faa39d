/**
 * Subscribes and returns the error the Observable raised during subscribe itself, i.e. at once: nothing
 * was sent and nothing is waited for (undefined if it did not fail then). No clock decides it.
 */
export function failsAtOnce(source: {
  subscribe(observer: { error(e: unknown): void }): { unsubscribe(): void };
}): unknown {
  let error: unknown;
  const subscription = source.subscribe({
    error: (e) => {
      error = e;
    },
  });
  subscription.unsubscribe();
  return error;
}
