/**
 * "Connect MM Lite API", following the steps of the source article: permission, business,
 * WhatsApp numbers, ad accounts, review, the On-Behalf-Of migration (only when the WABA is OBO) and
 * the final acceptance; then the status panel (syncing until the end of the window, active, or
 * inactive with Meta's status and what to do).
 *
 * Every step but the last is a GET form that carries the answers so far in the query string (no
 * state is kept on the server until the final POST, which is CSRF-checked like every POST).
 */
import type { ConnectionView } from "../../connections/connect";
import type { MmLiteStatusView } from "../../connections/status";
import { formatTime, NO_STATUS_ADVICE, ONBOARDING_ADVICE, timeLeft } from "../labels";
import { Badge, ErrorSummary } from "../layout";
import type { FormError } from "./send";

export type StepKey =
  | "permission"
  | "business"
  | "numbers"
  | "ad-accounts"
  | "review"
  | "migration"
  | "confirm";

export interface WizardState {
  permission: boolean;
  business: string | null;
  numbers: string[];
  /** Ad account ids as typed (comma, space or newline separated). */
  ads: string;
  migration: boolean;
}

export interface WizardBot {
  name: string;
  businessId: string;
  wabaId: string;
  phoneNumberId: string;
  wabaType: "shared" | "obo";
}

const STEP_TITLES: Record<StepKey, string> = {
  permission: "Permission",
  business: "Business",
  numbers: "WhatsApp numbers",
  "ad-accounts": "Ad accounts",
  review: "Review",
  migration: "WABA migration",
  confirm: "Final acceptance",
};

/** The steps of this WABA: the migration step only for an On-Behalf-Of WABA. */
export function stepsFor(obo: boolean): StepKey[] {
  return [
    "permission",
    "business",
    "numbers",
    "ad-accounts",
    "review",
    ...(obo ? (["migration"] as const) : []),
    "confirm",
  ];
}

const GRAPH_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Ad account ids typed by the user: the list, or the reason it cannot be used. */
export function parseAdAccounts(text: string): { ok: true; ids: string[] } | { ok: false; error: string } {
  const ids = [
    ...new Set(
      text
        .split(/[\s,;]+/)
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  if (ids.length === 0) return { ok: false, error: "Give at least one ad account ID." };
  if (ids.length > 100) return { ok: false, error: "Give at most 100 ad account IDs." };
  const bad = ids.find((id) => !GRAPH_ID.test(id));
  if (bad !== undefined) {
    return {
      ok: false,
      error: `“${bad.slice(0, 40)}” is not an ad account ID (letters, digits, _ or -, such as act_1234567890).`,
    };
  }
  return { ok: true, ids };
}

/** The first step whose answer is missing or wrong, with why (null: everything up to `upTo` is there). */
export function firstMissing(
  state: WizardState,
  bot: WizardBot,
  upTo: StepKey,
): { step: StepKey; error: string } | null {
  const steps = stepsFor(bot.wabaType === "obo");
  const need = (step: StepKey) => steps.indexOf(step) < steps.indexOf(upTo);
  if (need("permission") && !state.permission)
    return { step: "permission", error: "Allow the information sharing to continue." };
  if (need("business") && state.business !== bot.businessId)
    return { step: "business", error: "Select the business to connect." };
  if (need("numbers") && (state.numbers.length === 0 || state.numbers.some((n) => n !== bot.phoneNumberId)))
    return { step: "numbers", error: "Select at least one WhatsApp number." };
  if (need("ad-accounts")) {
    const ads = parseAdAccounts(state.ads);
    if (!ads.ok) return { step: "ad-accounts", error: ads.error };
  }
  if (steps.includes("migration") && need("migration") && !state.migration)
    return { step: "migration", error: "Accept the migration of the WhatsApp Business Account to continue." };
  return null;
}

function Hidden({ state, omit }: { state: WizardState; omit: (keyof WizardState)[] }) {
  return (
    <>
      {state.permission && !omit.includes("permission") ? (
        <input type="hidden" name="permission" value="yes" />
      ) : null}
      {state.business !== null && !omit.includes("business") ? (
        <input type="hidden" name="business" value={state.business} />
      ) : null}
      {omit.includes("numbers")
        ? null
        : state.numbers.map((n) => <input type="hidden" name="numbers" value={n} />)}
      {state.ads && !omit.includes("ads") ? <input type="hidden" name="ads" value={state.ads} /> : null}
      {state.migration && !omit.includes("migration") ? (
        <input type="hidden" name="migration" value="accepted" />
      ) : null}
    </>
  );
}

/** A query string of the answers so far (for the Back links). */
export function stateQuery(state: WizardState, step: StepKey): string {
  const q = new URLSearchParams({ step });
  if (state.permission) q.append("permission", "yes");
  if (state.business !== null) q.append("business", state.business);
  for (const n of state.numbers) q.append("numbers", n);
  if (state.ads) q.append("ads", state.ads);
  if (state.migration) q.append("migration", "accepted");
  return q.toString();
}

function StepList({ steps, at }: { steps: StepKey[]; at: StepKey }) {
  const index = steps.indexOf(at);
  return (
    <ol class="steps" aria-label="Steps of the connection">
      {steps.map((s, i) => (
        <li aria-current={s === at ? "step" : undefined} class={i < index ? "done" : undefined}>
          {STEP_TITLES[s]}
        </li>
      ))}
    </ol>
  );
}

function Review({ state, bot }: { state: WizardState; bot: WizardBot }) {
  const ads = parseAdAccounts(state.ads);
  return (
    <dl class="facts">
      <dt>Business</dt>
      <dd>{state.business}</dd>
      <dt>WhatsApp Business Account</dt>
      <dd>
        {bot.wabaId} ({bot.wabaType === "obo" ? "On-Behalf-Of" : "shared"})
      </dd>
      <dt>WhatsApp numbers</dt>
      <dd>{state.numbers.join(", ")}</dd>
      <dt>Ad accounts</dt>
      <dd>{ads.ok ? ads.ids.join(", ") : "—"}</dd>
      {bot.wabaType === "obo" ? (
        <>
          <dt>Migration to shared</dt>
          <dd>{state.migration ? "Accepted" : "Needed"}</dd>
        </>
      ) : null}
    </dl>
  );
}

export function ConnectStep(props: {
  step: StepKey;
  state: WizardState;
  bot: WizardBot;
  csrf: string;
  errors: FormError[];
}) {
  const { step, state, bot } = props;
  const steps = stepsFor(bot.wabaType === "obo");
  const i = steps.indexOf(step);
  const prev = i > 0 ? steps[i - 1] : undefined;
  const next = steps[i + 1];
  const back = prev ? (
    <a class="button secondary" href={`/portal/mm-lite/connect?${stateQuery(state, prev)}`}>
      Back
    </a>
  ) : (
    <a class="button secondary" href="/portal/mm-lite">
      Cancel
    </a>
  );
  const title = `Connect MM Lite API: ${STEP_TITLES[step]}`;
  const errors = <ErrorSummary title="Before you continue" messages={props.errors} />;

  if (step === "confirm") {
    return (
      <>
        <h1>{title}</h1>
        <StepList steps={steps} at={step} />
        {errors}
        <form method="post" action="/portal/mm-lite/connect" class="card">
          <h2>Review the information and accept</h2>
          <Review state={state} bot={bot} />
          <input type="hidden" name="_csrf" value={props.csrf} />
          <Hidden state={state} omit={[]} />
          <p>
            After you connect, Meta takes about 24 hours to synchronise. Meanwhile marketing messages keep
            going through the Cloud API, so campaigns never stop; afterwards they go through the MM Lite API
            only.
          </p>
          <label class="check" for="accept">
            <input id="accept" type="checkbox" name="accept" value="yes" required />
            <span>I have reviewed this information and want to connect the MM Lite API.</span>
          </label>
          <div class="actions-row">
            {back}
            <button type="submit">Connect MM Lite API</button>
          </div>
        </form>
      </>
    );
  }

  return (
    <>
      <h1>{title}</h1>
      <StepList steps={steps} at={step} />
      {errors}
      <form method="get" action="/portal/mm-lite/connect" class="card">
        <input type="hidden" name="step" value={next} />
        {step === "permission" ? (
          <>
            <Hidden state={state} omit={["permission"]} />
            <h2>Marketing Messages Lite API</h2>
            <p>
              The Marketing Messages Lite API (MM Lite) sends marketing templates the way the Cloud API does,
              with Meta's delivery optimisation on top. Prices are those of the Cloud API.
            </p>
            <p>To connect it, this portal and Meta share information about your business and its accounts.</p>
            <label class="check" for="permission">
              <input
                id="permission"
                type="checkbox"
                name="permission"
                value="yes"
                required
                checked={state.permission}
              />
              <span>I allow the information sharing between this platform and Meta.</span>
            </label>
          </>
        ) : null}
        {step === "business" ? (
          <>
            <Hidden state={state} omit={["business"]} />
            <fieldset>
              <legend>Select the business to connect</legend>
              <label class="check" for="business">
                <input id="business" type="radio" name="business" value={bot.businessId} required checked />
                <span>
                  Business {bot.businessId}
                  <span class="hint">The Business Manager that owns {bot.name}'s WhatsApp account.</span>
                </span>
              </label>
            </fieldset>
          </>
        ) : null}
        {step === "numbers" ? (
          <>
            <Hidden state={state} omit={["numbers"]} />
            <fieldset>
              <legend>Select the WhatsApp numbers</legend>
              <label class="check" for="number-0">
                <input
                  id="number-0"
                  type="checkbox"
                  name="numbers"
                  value={bot.phoneNumberId}
                  checked={state.numbers.length === 0 || state.numbers.includes(bot.phoneNumberId)}
                />
                <span>
                  Number {bot.phoneNumberId}
                  <span class="hint">WhatsApp Business Account {bot.wabaId}</span>
                </span>
              </label>
            </fieldset>
          </>
        ) : null}
        {step === "ad-accounts" ? (
          <>
            <Hidden state={state} omit={["ads"]} />
            <label for="ads">
              Ad accounts
              <span class="hint" id="ads-hint">
                One or more ad account IDs from Meta's Business Manager, separated by commas (e.g.
                act_1234567890).
              </span>
            </label>
            <input id="ads" name="ads" type="text" required aria-describedby="ads-hint" value={state.ads} />
          </>
        ) : null}
        {step === "review" ? (
          <>
            <Hidden state={state} omit={[]} />
            <h2>Review the information</h2>
            <Review state={state} bot={bot} />
            {bot.wabaType === "obo" ? (
              <p class="alert warn">
                This WhatsApp Business Account is of the On-Behalf-Of type. The next step asks you to accept
                its migration to the shared model.
              </p>
            ) : null}
          </>
        ) : null}
        {step === "migration" ? (
          <>
            <Hidden state={state} omit={["migration"]} />
            <h2>Migrate the WhatsApp Business Account to the shared model</h2>
            <p>
              MM Lite works only with shared WhatsApp Business Accounts. Account {bot.wabaId} is On-Behalf-Of
              (OBO), so it has to be migrated.
            </p>
            <p>
              After the migration your business has access to the account itself, not only through this
              platform:
            </p>
            <ul>
              <li>monitor the quality of your numbers;</li>
              <li>request the official account badge;</li>
              <li>set up catalogues and flows without opening a support ticket;</li>
              <li>create message templates and edit your profile.</li>
            </ul>
            <div class="alert warn">
              <p>
                <strong>Be careful:</strong> your business also becomes able to delete WhatsApp Business
                Accounts and numbers. Deleting them cannot be undone.
              </p>
            </div>
            <label class="check" for="migration">
              <input
                id="migration"
                type="checkbox"
                name="migration"
                value="accepted"
                required
                checked={state.migration}
              />
              <span>I accept the migration of account {bot.wabaId} to the shared model.</span>
            </label>
          </>
        ) : null}
        <div class="actions-row">
          {back}
          <button type="submit">Continue</button>
        </div>
      </form>
    </>
  );
}

export function StatusPanel(props: {
  status: MmLiteStatusView | null;
  connection: ConnectionView | null;
  connected: boolean;
  now?: number;
}) {
  const s = props.status;
  const c = props.connection;
  const advice = s?.onboardingStatus
    ? (ONBOARDING_ADVICE[s.onboardingStatus] ?? NO_STATUS_ADVICE)
    : NO_STATUS_ADVICE;
  return (
    <>
      <h1>MM Lite API</h1>
      {props.connected ? (
        <div class="alert ok" role="status">
          <p>
            <strong>MM Lite API connected.</strong> Meta is now synchronising your account.
          </p>
        </div>
      ) : null}
      <section class="card" aria-labelledby="status-title">
        <h2 id="status-title">
          Status:{" "}
          {s ? (
            <Badge
              kind={s.state}
              text={s.state === "active" ? "Active" : s.state === "syncing" ? "Syncing" : "Inactive"}
            />
          ) : (
            <Badge kind="inactive" text="Unknown" />
          )}
        </h2>
        {s === null ? (
          <p>
            Meta could not be asked right now. Campaigns keep going through the Cloud API; try again in a
            moment.
          </p>
        ) : s.state === "syncing" && s.syncUntil ? (
          <>
            <p>
              Meta is synchronising the connection until{" "}
              <strong>
                <time datetime={s.syncUntil}>{formatTime(s.syncUntil)}</time>
              </strong>{" "}
              (in about {timeLeft(s.syncUntil, props.now)}).
            </p>
            <p>
              Until then, marketing messages go through the Cloud API, so your campaigns continue. Afterwards
              the first marketing campaign activates the MM Lite API.
            </p>
          </>
        ) : s.state === "active" ? (
          <p>
            Marketing templates go through the MM Lite API
            {s.activatedAt ? (
              <>
                {" "}
                since <time datetime={s.activatedAt}>{formatTime(s.activatedAt)}</time>
              </>
            ) : null}
            . The Cloud API can no longer be chosen for marketing templates; other templates still use it.
          </p>
        ) : (
          <>
            <p>
              Meta's status: <strong>{s.onboardingStatus ?? "not reported"}</strong>. {advice.meaning}
            </p>
            <p>
              <strong>What to do:</strong> {advice.action}
            </p>
            <p class="muted">Meanwhile marketing messages go through the Cloud API.</p>
          </>
        )}
        {s?.botRestricted ? (
          <p class="alert warn">
            An operator has turned MM Lite off for this bot: every message goes through the Cloud API whatever
            the status.
          </p>
        ) : null}
        {s?.checkedAt ? (
          <p class="small muted">
            Last checked with Meta: <time datetime={s.checkedAt}>{formatTime(s.checkedAt)}</time>
          </p>
        ) : null}
      </section>
      {c ? (
        <section class="card" aria-labelledby="connection-title">
          <h2 id="connection-title">Connection</h2>
          <dl class="facts">
            <dt>Connected</dt>
            <dd>
              <time datetime={c.createdAt}>{formatTime(c.createdAt)}</time>
            </dd>
            <dt>Synchronisation ends</dt>
            <dd>
              <time datetime={c.syncUntil}>{formatTime(c.syncUntil)}</time>
            </dd>
            <dt>Business</dt>
            <dd>{c.businessId}</dd>
            <dt>WhatsApp Business Accounts</dt>
            <dd>
              {c.wabas
                .map((w) => `${w.id} (${w.type}${w.migrated ? ", migrated from On-Behalf-Of" : ""})`)
                .join(", ")}
            </dd>
            <dt>WhatsApp numbers</dt>
            <dd>{c.phoneNumberIds.join(", ")}</dd>
            <dt>Ad accounts</dt>
            <dd>{c.adAccountIds.join(", ")}</dd>
          </dl>
        </section>
      ) : (
        <section class="card" aria-labelledby="connect-title">
          <h2 id="connect-title">Connect the MM Lite API</h2>
          <p>
            Connect your business, its WhatsApp numbers and ad accounts to send marketing templates through
            the MM Lite API. You need access to the business's Business Manager.
          </p>
          <p class="muted small">
            Accounts that Meta has already onboarded switch to MM Lite automatically with their next marketing
            campaign.
          </p>
          <a class="button" href="/portal/mm-lite/connect?step=permission">
            Connect MM Lite API
          </a>
        </section>
      )}
    </>
  );
}
