import { describe, expect, it } from "vitest";
import { Relay } from "../../src/lib/relay";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe("Relay", () => {
  it("lets callers of one key go one after another, each when the previous one says", async () => {
    const relay = new Relay();
    const t0 = Date.now();
    const started: [string, number][] = [];
    const job = async (name: string, passAfterMs: number, runMs: number) => {
      const pass = await relay.turn("bot-1");
      started.push([name, Date.now() - t0]);
      pass(Date.now() + passAfterMs); // the next may start this long after this one started
      await sleep(runMs);
      pass(); // ignored: the turn was already passed on
    };
    await Promise.all([job("a", 60, 200), job("b", 0, 10), job("c", 0, 10)]);
    expect(started.map(([name]) => name)).toEqual(["a", "b", "c"]);
    const [, b] = started[1] as [string, number];
    const [, c] = started[2] as [string, number];
    expect(b).toBeGreaterThanOrEqual(55); // a passed at +60 ms, long before it ended (+200 ms)
    expect(b).toBeLessThan(190);
    expect(c).toBeLessThan(b + 50); // b passed at once
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
