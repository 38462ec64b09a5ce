import { Slots } from "./slots";

describe("Slots", () => {
  it("gives a freed slot to the highest rank waiting, in arrival order within a rank", async () => {
    const slots = new Slots(1);
    const release = await slots.acquire();
    const order: string[] = [];
    const wait = (name: string, rank: number) => slots.acquire(rank).then((r) => (order.push(name), r()));
    const all = Promise.all([wait("normal-1", 4), wait("low", 1), wait("critical", 10), wait("normal-2", 4), wait("high", 7)]);
    release();
    await all;
    expect(order).toEqual(["critical", "high", "normal-1", "normal-2", "low"]);
  });
});
