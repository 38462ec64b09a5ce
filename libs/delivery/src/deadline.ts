import { RetryableDeliveryError } from "@herald/errors";

/**
 * Runs one provider call with a wall-clock deadline over all of it (waiting for a pooled
 * connection, connecting, the exchange). Past the deadline the call counts as a retryable
 * failure, `onMiss` runs (the provider throws its connections away, so a wedged pool cannot hold
 * the next calls too), and whatever the late call does afterwards is only reported to `late`.
 */
export function withDeadline<T>(
  provider: string,
  ms: number,
  call: () => Promise<T>,
  onMiss: () => void,
  late: (outcome: "fulfilled" | "rejected") => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let missed = false;
    const timer = setTimeout(() => {
      missed = true;
      try {
        onMiss();
      } finally {
        reject(new RetryableDeliveryError("deadline_exceeded", `${provider} gave no outcome within ${ms} ms; its connections were reset`));
      }
    }, ms);
    call().then(
      (value) => {
        clearTimeout(timer);
        if (missed) late("fulfilled");
        else resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        if (missed) late("rejected");
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the provider's own error, as it threw it
        else reject(error);
      },
    );
  });
}
