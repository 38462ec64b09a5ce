import { delayQueueName, queueForRoutingKey } from "./topology";

describe("topology names", () => {
  it("routes every channel to its work queue", () => {
    expect(queueForRoutingKey("email")).toBe("email.queue");
    expect(queueForRoutingKey("whatsapp")).toBe("sms.queue");
    expect(queueForRoutingKey("slack")).toBe("webhook.queue");
    expect(queueForRoutingKey("fax")).toBeUndefined();
  });
  it("puts the delay in the delay queue's name, so a new RETRY_BASE_DELAY_MS declares new queues", () => {
    expect(delayQueueName("email.queue", 2000)).toBe("email.queue.retry.2000ms");
  });
});
