/**
 * "Send active message": audience (one number, or a CSV file) and an approved template, then the
 * details. Without a script: choosing the template is a GET form, so the next page knows how many
 * parameters to ask for.
 */
import { formatCount, INVALID_REASON_LABEL, label, ROUTE_LABEL, ROUTE_REASON_LABEL } from "../labels";
import { ErrorSummary } from "../layout";
import { type PickerTemplate, paramColumns, templateRef } from "../templates";

export type Audience = "individual" | "bulk";

export interface FormError {
  text: string;
  field?: string;
}

function Steps({ at }: { at: 1 | 2 | 3 }) {
  const steps = ["Audience and template", "Details", "Sent"];
  return (
    <ol class="steps" aria-label="Steps">
      {steps.map((s, i) => (
        <li aria-current={i + 1 === at ? "step" : undefined} class={i + 1 < at ? "done" : undefined}>
          {s}
        </li>
      ))}
    </ol>
  );
}

function describe(t: PickerTemplate): string {
  const n = t.paramNames.length;
  return `${t.name} (${t.language}) · ${t.category} · ${n} parameter${n === 1 ? "" : "s"}`;
}

export function ChooseTemplate(props: {
  templates: PickerTemplate[];
  audience: Audience;
  selected?: string;
  errors: FormError[];
}) {
  return (
    <>
      <h1>Send active message</h1>
      <Steps at={1} />
      <ErrorSummary title="Something needs fixing" messages={props.errors} />
      {props.templates.length === 0 ? (
        <div class="card">
          <h2>No approved template</h2>
          <p>
            Active messages use templates that Meta has approved. Create one in Meta's WhatsApp Manager and
            come back once it is approved.
          </p>
        </div>
      ) : (
        <form method="get" action="/portal/send" class="card">
          <fieldset>
            <legend>Audience</legend>
            <label class="check">
              <input
                type="radio"
                name="audience"
                value="individual"
                checked={props.audience === "individual"}
              />
              <span>
                Individual: one phone number
                <span class="hint">Type the number and the template's parameters.</span>
              </span>
            </label>
            <label class="check">
              <input type="radio" name="audience" value="bulk" checked={props.audience === "bulk"} />
              <span>
                Bulk: upload a CSV file
                <span class="hint">A phone column and one column per template parameter.</span>
              </span>
            </label>
          </fieldset>
          <label for="template">
            Approved template
            <span class="hint">Only templates Meta has approved are listed.</span>
          </label>
          <select id="template" name="template" required>
            {props.templates.map((t) => (
              <option value={templateRef(t)} selected={props.selected === templateRef(t)}>
                {describe(t)}
              </option>
            ))}
          </select>
          <div class="actions-row">
            <button type="submit">Continue</button>
          </div>
        </form>
      )}
    </>
  );
}

function TemplatePreview({ t, audience }: { t: PickerTemplate; audience: Audience }) {
  return (
    <div class="card">
      <h2>Template</h2>
      <dl class="facts">
        <dt>Name</dt>
        <dd>{t.name}</dd>
        <dt>Language</dt>
        <dd>{t.language}</dd>
        <dt>Category</dt>
        <dd>
          {t.category}
          {t.category === "MARKETING" ? (
            <span class="small muted"> (goes through the MM Lite API when it is active)</span>
          ) : null}
        </dd>
        <dt>Audience</dt>
        <dd>{audience === "individual" ? "One phone number" : "CSV file"}</dd>
      </dl>
      {t.body ? (
        <>
          <h3>Message</h3>
          <pre class="preview">{t.body}</pre>
        </>
      ) : null}
      <p>
        <a href={`/portal/send?audience=${audience}&template=${encodeURIComponent(templateRef(t))}&change=1`}>
          Change the audience or the template
        </a>
      </p>
    </div>
  );
}

export interface IndividualValues {
  to: string;
  params: string[];
}

export function IndividualForm(props: {
  t: PickerTemplate;
  csrf: string;
  formKey: string;
  values: IndividualValues;
  errors: FormError[];
}) {
  const { t } = props;
  return (
    <>
      <h1>Send active message</h1>
      <Steps at={2} />
      <ErrorSummary title="The message was not sent" messages={props.errors} />
      <TemplatePreview t={t} audience="individual" />
      <form method="post" action="/portal/send/individual" class="card">
        <h2>Recipient and parameters</h2>
        <input type="hidden" name="_csrf" value={props.csrf} />
        <input type="hidden" name="form_key" value={props.formKey} />
        <input type="hidden" name="template" value={templateRef(t)} />
        <label for="to">
          Phone number
          <span class="hint">With the country code, e.g. +55 11 99999-0001.</span>
        </label>
        <input
          id="to"
          name="to"
          type="tel"
          inputmode="tel"
          autocomplete="off"
          required
          maxlength={64}
          value={props.values.to}
        />
        {t.paramNames.map((p, i) => (
          <>
            <label for={`p_${i}`}>
              Parameter <code>{`{{${p}}}`}</code>
            </label>
            <input
              id={`p_${i}`}
              name={`p_${i}`}
              type="text"
              required
              maxlength={1024}
              value={props.values.params[i] ?? ""}
            />
          </>
        ))}
        {t.paramNames.length === 0 ? <p class="muted">This template takes no parameters.</p> : null}
        <div class="actions-row">
          <button type="submit">Send message</button>
        </div>
      </form>
    </>
  );
}

export function BulkForm(props: {
  t: PickerTemplate;
  csrf: string;
  formKey: string;
  name: string;
  errors: FormError[];
  invalidRows?: InvalidRow[];
}) {
  const { t } = props;
  const cols = paramColumns(t);
  const sample = `/portal/send/sample.csv?template=${encodeURIComponent(templateRef(t))}`;
  return (
    <>
      <h1>Send active message</h1>
      <Steps at={2} />
      <ErrorSummary title="The campaign was not started" messages={props.errors} />
      {props.invalidRows && props.invalidRows.length > 0 ? <InvalidRows rows={props.invalidRows} /> : null}
      <TemplatePreview t={t} audience="bulk" />
      {/* Fields before the file: the server checks the token and reads the fields before the file. */}
      <form method="post" action="/portal/send/bulk" enctype="multipart/form-data" class="card">
        <h2>Campaign and audience</h2>
        <input type="hidden" name="_csrf" value={props.csrf} />
        <input type="hidden" name="form_key" value={props.formKey} />
        <input type="hidden" name="template" value={templateRef(t)} />
        <label for="name">Campaign name</label>
        <input id="name" name="name" type="text" required maxlength={200} value={props.name} />
        <label for="file">
          CSV file
          <span class="hint" id="file-hint">
            The first row names the columns: <code>phone</code> (or <code>to</code>, <code>recipient</code>,{" "}
            <code>number</code>)
            {cols.length > 0 ? (
              <> and one column per parameter, in this order: {cols.map((c) => c).join(", ")}</>
            ) : null}
            . Commas or semicolons. Bad rows are skipped and listed; they never stop the campaign.
          </span>
        </label>
        <input
          id="file"
          name="file"
          type="file"
          accept=".csv,text/csv"
          required
          aria-describedby="file-hint"
        />
        <p>
          <a href={sample} download={`sample-${t.name}.csv`}>
            Download a sample CSV for this template
          </a>
        </p>
        <div class="actions-row">
          <button type="submit">Upload and send</button>
        </div>
      </form>
    </>
  );
}

export interface InvalidRow {
  row: number;
  value: string;
  reason: string;
}

function InvalidRows({ rows, invalid }: { rows: InvalidRow[]; invalid?: number }) {
  return (
    <div class="card" id="invalid-rows">
      <h2>Rows that were skipped</h2>
      <p class="muted">
        {invalid !== undefined && invalid > rows.length
          ? `The first ${rows.length} of ${formatCount(invalid)} skipped rows. `
          : ""}
        Row numbers are lines of the file (the header is line 1).
      </p>
      <table class="responsive">
        <thead>
          <tr>
            <th scope="col">Row</th>
            <th scope="col">Phone as written</th>
            <th scope="col">Problem</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr>
              <th scope="row" data-label="Row">
                {r.row}
              </th>
              <td data-label="Phone as written">{r.value === "" ? <em>(empty)</em> : r.value}</td>
              <td data-label="Problem">{label(INVALID_REASON_LABEL, r.reason)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export interface BulkAnswer {
  id: string;
  name: string;
  status: string;
  total: number;
  invalid: number;
  duplicates: number;
  invalidRows: InvalidRow[];
  route: string;
  routeReason: string;
}

export function BulkResult({ a }: { a: BulkAnswer }) {
  return (
    <>
      <h1>Campaign started</h1>
      <Steps at={3} />
      <div class="alert ok" role="status">
        <h2>“{a.name}” is sending</h2>
        <p>
          {formatCount(a.total)} recipient{a.total === 1 ? "" : "s"} queued through the{" "}
          {label(ROUTE_LABEL, a.route)}. {label(ROUTE_REASON_LABEL, a.routeReason)}.
        </p>
      </div>
      <ul class="kpis">
        <li>
          <span class="n">{formatCount(a.total)}</span>
          <span class="l">Recipients queued</span>
        </li>
        <li>
          <span class="n">{formatCount(a.invalid)}</span>
          <span class="l">Rows skipped</span>
        </li>
        <li>
          <span class="n">{formatCount(a.duplicates)}</span>
          <span class="l">Duplicates dropped</span>
        </li>
      </ul>
      {a.invalidRows.length > 0 ? <InvalidRows rows={a.invalidRows} invalid={a.invalid} /> : null}
      <div class="actions-row">
        <a class="button" href={`/portal/campaigns/${a.id}`}>
          View performance details
        </a>
        <a class="button secondary" href="/portal/campaigns">
          Active messages
        </a>
        <a class="button secondary" href="/portal/send">
          Send another
        </a>
      </div>
    </>
  );
}
