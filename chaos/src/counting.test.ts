import { failures, tally, type ApiStatus } from "./counting";
import type { Send } from "./load";

const send = (n: number, channel: Send["channel"] = "email", answer: Send["answer"] = 202): Send => ({
  mark: `m${n}`,
  channel,
  at: 0,
  answer,
  ...(answer === 202 ? { requestId: `r${n}`, deliveryId: `d${n}` } : {}),
});
const sent: ApiStatus = { status: "sent", lastErrorCode: null };

describe("the drill's count", () => {
  it("counts delivered, twice, dead-lettered, lost, stuck and wrong statuses at the receiving end", () => {
    const sends = [send(1), send(2), send(3), send(4), send(5), send(6), send(7, "sms"), send(8, "email", 503), send(9, "email", "refused")];
    const receipts = new Map([
      ["d1", [1000]],
      ["d2", [1000, 1500]],
      ["d4", [2500]],
      ["d7", [3000]],
    ]);
    const statuses = new Map<string, ApiStatus>([
      ["d1", sent],
      ["d2", sent],
      ["d3", { status: "dead_lettered", lastErrorCode: "smtp_550" }],
      // Received, yet the API says it was interrupted: replaying it would send it twice.
      ["d4", { status: "dead_lettered", lastErrorCode: "delivery_interrupted" }],
      // The API says sent, the receiver never saw it.
      ["d5", sent],
      ["d6", { status: "processing", lastErrorCode: null }],
      ["d7", sent],
    ]);
    const t = tally(sends, receipts, statuses, 2000, { email: 1 });
    expect(t).toMatchObject({
      sent: 9,
      accepted: 7,
      answers: { "503": 1, refused: 1 },
      delivered: 4,
      twice: 1,
      twiceAllowed: 1,
      deadLettered: { smtp_550: 1, delivery_interrupted: 1 },
      lost: 2,
      stuck: 1,
      wrongStatus: 2,
      firstAfterFaultS: 0.5,
      drainedS: null,
    });
    expect(t.samples).toEqual({ lost: ["d5", "d6"], stuck: ["d6"], twice: ["d2"], wrongStatus: ["d4", "d5"] });
    expect(t.byChannel.sms).toMatchObject({ accepted: 1, delivered: 1, twiceAllowed: 0 });
    expect(failures(t)).toEqual(["2 lost", "1 stuck", "2 with a status that contradicts the receiver"]);
  });

  it("fails a channel delivered twice beyond its allowance, and measures the drain once nothing is stuck", () => {
    const sends = [send(1), send(2, "webhook"), send(3, "webhook")];
    const receipts = new Map([
      ["d1", [5000, 6000]],
      ["d2", [7000, 7100]],
      ["d3", [9000]],
    ]);
    const statuses = new Map([["d1", sent], ["d2", sent], ["d3", sent]]);
    const t = tally(sends, receipts, statuses, 4000, { email: 1 });
    expect(t.drainedS).toBe(5);
    expect(t.firstAfterFaultS).toBe(1);
    expect(failures(t)).toEqual(["webhook: 1 delivered twice (allowed 0)"]);
  });

  it("counts a delivery the API did not answer for as stuck", () => {
    const t = tally([send(1)], new Map(), new Map(), 0, {});
    expect(t).toMatchObject({ stuck: 1, lost: 1, delivered: 0, firstAfterFaultS: null });
  });
});
