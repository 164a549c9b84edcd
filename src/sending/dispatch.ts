import type { MessageRow } from "../db/schema";
import { type Deferral, type Grant, MAX_SLOT_WAIT_MS } from "../gate/pacing";
import type { WabaGate } from "../gate/waba-gate";
import { log } from "../lib/log";
import { isoNow, sleep } from "../lib/time";
import type { MetaClient } from "../meta/client";
import { backoffMs, MetaApiError, MetaUnreachableError } from "../meta/errors";
import { metaClient } from "../meta/transport";
import { FALLBACK_DECISION } from "../routing/decide";
import type { Route } from "../routing/types";
import type { InFlight } from "./in-flight";
import { backoffWithJitter, finalize, type SendOutcome } from "./outcome";
import { claim, type JobContext, type Result } from "./store";

/**
 * Sends a job's messages at the slots the WABA's Durable Object grants. Slots are claimed in
 * blocks of about BLOCK_MS: one D1 write records the intent of a whole block just before it goes,
 * so a crash can leave at most one block "unknown", and D1 sees a write per block, not per message.
 */
const BLOCK_MS = 250;

/** A block is claimed this long before its first slot, so the D1 write never delays the send. */
const CLAIM_LEAD_MS = 40;

/** How late a slot may still be used (the rest of the jitter allowance covers the network). */
export const SLOT_TOLERANCE_MS = 8;

/** How long claimed messages may wait for fresh slots after theirs were skipped. */
const CLAIMED_WAIT_MS = 1_000;

/** How many times a job that fell behind books fresh slots before it goes back to the queue. */
const MAX_REFILLS = 3;

/**
 * A job about to wait longer than this for fresh slots records what it has sent so far first, so
 * wamids Meta already gave are never held through the wait (a crash during it would otherwise
 * report them as outcome unknown).
 */
const HOLD_RESULTS_MS = 1_000;

/** Writes the outcomes of some of a job's messages (disjoint from every other call's). */
export type RecordResults = (results: Result[]) => Promise<void>;

export interface JobHooks {
  /** Records results early, before a long wait (see HOLD_RESULTS_MS). */
  record: RecordResults;
  /**
   * Called once, when every message of the job has been claimed: from then on the job only sends
   * claimed messages and writes outcomes, and a crash can no longer leave a message unsent and
   * unclaimed (what is claimed ends accepted, failed or outcome unknown, never sent twice).
   */
  claimedAll?: () => void;
  /** Called with the end of the job's first grant (epoch ms), once it has its slots. */
  granted?: (endsAt: number) => void;
}

/** Claimed but not sent: the intent is cleared and the attempt not counted. */
const RESCHEDULED: SendOutcome = { kind: "rescheduled", claimed: true };
const RESCHEDULED_UNCLAIMED: SendOutcome = { kind: "rescheduled", claimed: false };

/**
 * Thrown when the number is booked too far ahead: the WABA's Durable Object has parked the job and
 * its alarm re-enqueues it when the number has room, so the consumer just acks the message.
 */
export class JobDeferred extends Error {
  constructor() {
    super("parked until the number has room");
    this.name = "JobDeferred";
  }
}

type Gate = DurableObjectStub<WabaGate>;

/**
 * `limiter` bounds the sends in flight of the whole consumer invocation (all its jobs share it): a
 * send leaves only at its slot (within SLOT_TOLERANCE_MS) and with a connection free, otherwise
 * its message waits for the next slot.
 *
 * Returns the results not yet given to `hooks.record`: before a wait for slots further out than
 * HOLD_RESULTS_MS, the sends made so far are recorded as soon as they settle (without holding up
 * the loop). A failed early record is not lost: its results are returned with the rest.
 */
export async function sendAtSlots(
  env: Env,
  ctx: JobContext,
  gate: Gate,
  limiter: InFlight,
  hooks: JobHooks,
): Promise<Result[]> {
  const { bot } = ctx;
  const grant: Grant | Deferral = await gate.acquireOrPark(
    bot.phoneNumberId,
    bot.throughputMps,
    ctx.sendable.length,
    ctx.job,
  );
  if ("deferred" in grant) throw new JobDeferred();
  hooks.granted?.(grant.startAt + grant.count * grant.intervalMs);
  let slots: Grant = grant;
  let refills = 0;
  const slotAt = (j: number) => slots.startAt + j * slots.intervalMs;
  // Blocks of even size: a short last block would leave the job's hand-off (`claimedAll`) to a
  // few slots before its end.
  const blocks = Math.ceil(ctx.sendable.length / Math.max(1, Math.floor(BLOCK_MS / slots.intervalMs)));
  const perBlock = Math.ceil(ctx.sendable.length / blocks);
  const client = metaClient(env);
  const io: SendIo = { client, gate, limiter, droppedStatus: false };
  const sends: Promise<Result>[] = [];
  const results: Result[] = [];
  const early: Promise<void>[] = [];
  const recordSoFar = () => {
    const sent = sends.splice(0);
    early.push(
      Promise.all(sent).then(async (settled) => {
        try {
          await hooks.record(settled);
        } catch (err) {
          log.warn("outcomes_not_recorded_early", {
            error: err instanceof Error ? err.message : "unknown",
          });
          results.push(...settled); // recorded with the rest when the job ends
        }
      }),
    );
  };
  const claimed = new Map<string, number>();
  let claimedUpTo = 0; // messages [0, claimedUpTo) have been through a claim
  let slot = 0;

  for (let i = 0; i < ctx.sendable.length; i++) {
    const message = ctx.sendable[i] as MessageRow;
    // A slot whose time has passed by more than SLOT_TOLERANCE_MS is skipped, never used late:
    // a stalled isolate or a slow claim must not release the sends it delayed as a burst. Sends
    // that run out of slots go back to the queue and get fresh ones.
    while (slot < slots.count && slotAt(slot) < Date.now() - SLOT_TOLERANCE_MS) slot++;
    if (slot >= slots.count) {
      // Out of slots (some were skipped): book fresh ones at the end of the number's schedule, a
      // few times; a job that keeps falling behind goes back to the queue.
      // Messages of the current block are already claimed: they may wait for new slots only
      // briefly, since a cancel cannot stop a claimed message and a crash would leave it
      // "unknown". Slots further out are not booked at all; the rest goes back to the queue.
      const fresh =
        refills < MAX_REFILLS
          ? await gate.acquireWithin(
              bot.phoneNumberId,
              bot.throughputMps,
              ctx.sendable.length - i,
              i < claimedUpTo ? CLAIMED_WAIT_MS : MAX_SLOT_WAIT_MS,
            )
          : null;
      if (fresh) {
        if (sends.length > 0 && fresh.startAt - Date.now() > HOLD_RESULTS_MS) recordSoFar();
        refills += 1;
        slots = fresh;
        slot = 0;
        i -= 1;
        continue;
      }
      results.push(...reschedule(ctx.sendable, i, claimed, claimedUpTo));
      break;
    }
    if (i >= claimedUpTo) {
      // Record the send intent of the next block shortly before its first slot.
      await sleep(slotAt(slot) - CLAIM_LEAD_MS - Date.now());
      const block = ctx.sendable.slice(i, i + perBlock);
      claimedUpTo = i + block.length;
      const taken = await claim(
        env,
        ctx,
        block.map((m) => m.id),
      );
      for (const [id, attempts] of taken.claimed) claimed.set(id, attempts);
      if (claimedUpTo >= ctx.sendable.length) hooks.claimedAll?.();
      // Nothing claimable (and not because the numbers opted out): the campaign was cancelled,
      // or another consumer holds these. Stop rather than wait out the remaining slots; the rest
      // get a job of their own (which finds nothing to do if the campaign was cancelled).
      if (taken.claimed.size === 0 && taken.optedOut.size === 0) {
        results.push(...reschedule(ctx.sendable, claimedUpTo, claimed, claimedUpTo));
        break;
      }
      i -= 1; // re-check the slot after the claim's round trip
      continue;
    }
    const attempts = claimed.get(message.id);
    if (attempts === undefined) continue; // Another consumer holds it (a redelivery).
    await sleep(slotAt(slot) - Date.now());
    const started = await limiter.take(slotAt(slot) + SLOT_TOLERANCE_MS);
    slot += 1;
    if (!started) {
      // Every connection is still busy when the slot ends, or the slot was already over when the
      // timer fired (a busy isolate): the slot goes unused (never late) and this message tries
      // the next one.
      i -= 1;
      continue;
    }
    sends.push(
      attempt(io, ctx, message, attempts).then((outcome) => ({
        message,
        outcome: finalize(outcome, attempts),
        attempts,
      })),
    );
  }
  results.push(...(await Promise.all(sends)));
  await Promise.all(early);
  return results;
}

/** Messages from `from` on that will not be sent by this job: claimed ones are un-claimed. */
function reschedule(
  messages: MessageRow[],
  from: number,
  claimed: Map<string, number>,
  claimedUpTo: number,
): Result[] {
  const out: Result[] = [];
  for (let k = from; k < messages.length; k++) {
    const message = messages[k] as MessageRow;
    const attempts = claimed.get(message.id);
    if (attempts !== undefined) out.push({ message, outcome: RESCHEDULED, attempts });
    else if (k >= claimedUpTo)
      out.push({ message, outcome: RESCHEDULED_UNCLAIMED, attempts: message.attempts });
  }
  return out;
}

interface SendIo {
  client: MetaClient;
  gate: Gate;
  limiter: InFlight;
  /** The WABA's cached status is dropped once per job, not once per refused message. */
  droppedStatus: boolean;
}

/**
 * One send through the message's route. An MM Lite refusal (131055 / 134100 / 134102) re-sends it
 * through the Cloud API at once (`mm_lite_rejected_fallback`) and drops the WABA's cached status.
 * The message row is updated in place so the caller records the final route.
 * The caller holds a permit of `io.limiter`; it is given back as soon as Meta answers.
 */
async function attempt(
  io: SendIo,
  ctx: JobContext,
  message: MessageRow,
  attempts: number,
): Promise<SendOutcome> {
  const route = message.route as Route;
  try {
    let wamid: string;
    try {
      ({ wamid } = await io.client.sendTemplate(route, ctx.bot.phoneNumberId, {
        to: message.to,
        template: {
          name: ctx.campaign.templateName,
          language: ctx.campaign.templateLanguage,
          ...(message.components
            ? { components: JSON.parse(message.components) as unknown[] }
            : { params: JSON.parse(message.params ?? "[]") as string[] }),
        },
      }));
    } finally {
      io.limiter.release();
    }
    return {
      kind: "accepted",
      wamid,
      route,
      reason: message.routeReason === FALLBACK_DECISION.reason ? FALLBACK_DECISION.reason : null,
      // When Meta accepted this send, not when the job's outcomes are written.
      acceptedAt: isoNow(),
    };
  } catch (err) {
    if (err instanceof MetaApiError) {
      const cls = err.classification;
      const code = err.code ?? null;
      const title = err.metaMessage ?? err.details ?? `Meta error ${code ?? err.httpStatus}`;
      if (cls.kind === "fallback_cloud_api") {
        if (route !== "mm_lite") return { kind: "failed", code, title };
        if (!io.droppedStatus) {
          io.droppedStatus = true;
          await io.gate.dropStatus(ctx.bot.wabaId, true);
        }
        message.route = FALLBACK_DECISION.route;
        message.routeReason = FALLBACK_DECISION.reason;
        // MM Lite refused it, so the Cloud API send is safe; it too waits for a slot and a
        // connection. If it cannot start in time, the message goes back to the queue on the new
        // route (Meta refused the first send, so nothing was delivered).
        if (await takeSlot(io, ctx)) return attempt(io, ctx, message, attempts);
        return { kind: "retry", code, title, delayMs: 0, throttled: false };
      }
      if (cls.kind === "permanent") return { kind: "failed", code, title };
      // Retryable: `attempts` counts this attempt, so the first retry is backoff step 0.
      const delayMs = backoffMs(cls, attempts - 1);
      const throttled = cls.kind === "throttled";
      if (throttled) await io.gate.reportThrottle(ctx.bot.phoneNumberId, Math.min(delayMs, 5_000));
      return { kind: "retry", code, title, delayMs, throttled };
    }
    if (err instanceof MetaUnreachableError && !err.outcomeUnknown) {
      return {
        kind: "retry",
        code: null,
        title: `Meta unreachable (${err.reason})`,
        delayMs: backoffWithJitter(attempts),
        throttled: false,
      };
    }
    // No answer after the request may have left: Meta may have accepted it.
    log.warn("send_outcome_unknown", {
      messageId: message.id,
      error: err instanceof Error ? err.name : "unknown",
    });
    return { kind: "unknown", title: "" };
  }
}

/** One slot for a single send, and a connection within its tolerance; false if none came in time. */
async function takeSlot(io: SendIo, ctx: JobContext): Promise<boolean> {
  const slot = await io.gate.acquire(ctx.bot.phoneNumberId, ctx.bot.throughputMps, 1);
  await sleep(slot.startAt - Date.now());
  return io.limiter.take(slot.startAt + SLOT_TOLERANCE_MS);
}
