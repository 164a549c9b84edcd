/** The MM Lite status panel: syncing with the end of the window, active, or inactive with Meta's status and what to do. */
import type { ConnectionView } from "../../connections/connect";
import type { MmLiteStatusView } from "../../connections/status";
import { formatTime, NO_STATUS_ADVICE, ONBOARDING_ADVICE, timeLeft } from "../labels";
import { Badge } from "../layout";

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
