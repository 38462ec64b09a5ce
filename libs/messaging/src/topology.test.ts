import { delayQueueName } from "./topology";

describe("topology names", () => {
  it("puts the delay in the delay queue's name, so a new RETRY_BASE_DELAY_MS declares new queues", () => {
    expect(delayQueueName("email.queue", 2000)).toBe("email.queue.retry.2000ms");
  });
});
