import { describe, expect, it } from "vitest";
import { InTurn } from "../../src/lib/in-turn";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe("InTurn", () => {
  it("runs concurrent callers' steps one at a time, in the order they asked", async () => {
    const turn = new InTurn();
    const events: string[] = [];
    let running = 0;
    const step = (name: string, ms: number) =>
      turn.run(async () => {
        running += 1;
        expect(running).toBe(1);
        events.push(`start ${name}`);
        await sleep(ms);
        events.push(`end ${name}`);
        running -= 1;
        return name;
      });
    // The first step is the slowest: without the turn, b and c would finish before it.
    const results = await Promise.all([step("a", 30), step("b", 1), step("c", 5)]);
    expect(results).toEqual(["a", "b", "c"]);
    expect(events).toEqual(["start a", "end a", "start b", "end b", "start c", "end c"]);
  });

  it("a failing step fails its own caller only; the next step still runs", async () => {
    const turn = new InTurn();
    const failed = turn.run(async () => {
      throw new Error("D1 unavailable");
    });
    const next = turn.run(async () => "loaded");
    await expect(failed).rejects.toThrow("D1 unavailable");
    await expect(next).resolves.toBe("loaded");
  });
});
