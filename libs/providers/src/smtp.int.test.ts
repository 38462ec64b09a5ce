import { RetryableDeliveryError } from "@herald/errors";
import { FakeSmtp } from "@herald/testkit";
import { SmtpEmailProvider } from "./smtp";

const mail = (i: number) => ({ to: `user${i}@example.com`, from: "Herald <no-reply@herald.local>", subject: "s", text: "t", messageId: `<m${i}@herald>` });

describe("SmtpEmailProvider against a server that goes away", () => {
  let smtp: FakeSmtp;
  let provider: SmtpEmailProvider;

  beforeEach(async () => {
    smtp = new FakeSmtp();
    await smtp.start();
    provider = new SmtpEmailProvider({ host: "127.0.0.1", port: smtp.port, secure: false, maxConnections: 2, timeoutMs: 2000 });
  });

  afterEach(async () => {
    await provider.close();
    await smtp.stop();
  });

  it("sends again once the server is back after refusing more connections than the pool has (no connection stays stuck in the pool)", async () => {
    await provider.send(mail(0));
    await smtp.outage("refuse");
    for (let i = 1; i <= 5; i += 1) await expect(provider.send(mail(i))).rejects.toBeInstanceOf(RetryableDeliveryError);
    await smtp.outage(undefined);
    await expect(provider.send(mail(9))).resolves.toEqual({ providerMessageId: "<m9@herald>" });
    expect(smtp.received.map((m) => m.to)).toEqual(["user0@example.com", "user9@example.com"]);
  });

  it("fails a send to a server that accepts TCP and never greets within its timeout, and reset() lets the next send start afresh", async () => {
    await smtp.outage("silent");
    await expect(provider.send(mail(1))).rejects.toMatchObject({ retryable: true });
    provider.reset();
    await smtp.outage(undefined);
    await expect(provider.send(mail(2))).resolves.toEqual({ providerMessageId: "<m2@herald>" });
  });
});
