import { describe, expect, it } from "vitest";
import { Relay } from "../../src/lib/relay";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe("Relay", () => {
  it("lets callers of one key go one after another, each when the previous one says", async () => {
    const relay = new Relay();
    const t0 = Date.now();
    const events: string[] = [];
    const startedAt = new Map<string, number>();
    const job = async (name: string, passAfterMs: number, runMs: number) => {
      const pass = await relay.turn("bot-1");
      startedAt.set(name, Date.now() - t0);
      events.push(`start ${name}`);
      pass(Date.now() + passAfterMs); // the next may start this long after this one started
      await sleep(runMs);
      events.push(`end ${name}`);
      pass(); // ignored: the turn was already passed on
    };
    await Promise.all([job("a", 60, 200), job("b", 0, 10), job("c", 0, 10)]);
    // b started when a passed the turn on (+60 ms), long before a ended (+200 ms); c right after b
    // (b passed at once), before b ended. Order, not exact times: the machine may be slow.
    expect(events).toEqual(["start a", "start b", "start c", "end b", "end c", "end a"]);
    expect(startedAt.get("b")).toBeGreaterThanOrEqual(50);
  });

  it("keys are independent, and a holder that ends without naming a time passes at once", async () => {
    const relay = new Relay();
    const order: string[] = [];
    const holdA = await relay.turn("bot-a");
    const b = relay.turn("bot-b").then((pass) => {
      order.push("b");
      pass();
    });
    const a2 = relay.turn("bot-a").then((pass) => {
      order.push("a2");
      pass();
    });
    await b; // another key never waits for bot-a's holder
    expect(order).toEqual(["b"]);
    holdA();
    await a2;
    expect(order).toEqual(["b", "a2"]);
  });
});
