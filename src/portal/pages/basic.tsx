/** The sign-in form and the error page. */
import { ErrorSummary } from "../layout";

export function SignIn(props: { csrf: string; next: string; error?: string; signedOut?: boolean }) {
  return (
    <div class="card">
      <h1>Sign in</h1>
      {props.signedOut ? (
        <div class="alert ok" role="status">
          <p>You are signed out.</p>
        </div>
      ) : null}
      <ErrorSummary
        title="You are not signed in"
        messages={props.error ? [{ text: props.error, field: "api-key" }] : []}
      />
      <p>
        Sign in with your bot's API key to send active messages, follow campaigns and connect the MM Lite API.
      </p>
      <form method="post" action="/portal/sign-in">
        <input type="hidden" name="_csrf" value={props.csrf} />
        <input type="hidden" name="next" value={props.next} />
        <label for="api-key">
          API key
          <span class="hint" id="api-key-hint">
            It starts with <code>mmk_</code>. Your operator gave it to you when the bot was created.
          </span>
        </label>
        <input
          id="api-key"
          name="api_key"
          type="password"
          autocomplete="current-password"
          required
          maxlength={200}
          aria-describedby="api-key-hint"
          aria-invalid={props.error ? "true" : undefined}
        />
        <div class="actions-row">
          <button type="submit">Sign in</button>
        </div>
      </form>
    </div>
  );
}

export function ErrorView(props: { status: number; title: string; detail?: string; signedIn: boolean }) {
  return (
    <div class="card">
      <h1>{props.title}</h1>
      {props.detail ? <p>{props.detail}</p> : null}
      <p class="muted small">Error {props.status}</p>
      <p>
        {props.signedIn ? (
          <a href="/portal/campaigns">Back to active messages</a>
        ) : (
          <a href="/portal/sign-in">Sign in</a>
        )}
      </p>
    </div>
  );
}
