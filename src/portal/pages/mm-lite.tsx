/**
 * "Connect MM Lite API", following the steps of the source article: permission, business,
 * WhatsApp numbers, ad accounts, review, the On-Behalf-Of migration (only when the WABA is OBO) and
 * the final acceptance (./mm-lite-status.tsx shows the result).
 *
 * Every step but the last is a GET form that carries the answers so far in the query string (no
 * state is kept on the server until the final POST, which is CSRF-checked like every POST).
 */
import {
  parseAdAccounts,
  STEP_TITLES,
  type StepKey,
  stateQuery,
  stepsFor,
  type WizardBot,
  type WizardState,
} from "../connect-steps";
import { ErrorSummary } from "../layout";
import type { FormError } from "./send";

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
