/**
 * The page shell: one inline stylesheet (allowed by a per-response CSP nonce), no script, no
 * external asset. Mobile first: one column on a phone, tables turn into cards below 640px.
 */
import type { Child } from "hono/jsx";

const CSS = `
:root{--fg:#1e293b;--muted:#475569;--bg:#f8fafc;--card:#fff;--line:#cbd5e1;--brand:#1d4ed8;--brand-dark:#1e3a8a;
--ok:#15803d;--warn:#92400e;--bad:#b91c1c;--focus:#b45309;--radius:8px;font-size:100%}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);line-height:1.5}
a{color:var(--brand)}a:hover{color:var(--brand-dark)}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.skip{position:absolute;left:-999px;top:0;background:#fff;padding:.5rem 1rem;z-index:10}
.skip:focus{left:.5rem;top:.5rem}
.visually-hidden{position:absolute!important;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
header.top{background:#0f172a;color:#fff}
header.top .bar{max-width:72rem;margin:0 auto;padding:.6rem 1rem;display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1rem}
header.top .brand{font-weight:700;color:#fff;text-decoration:none;margin-right:auto}
header.top nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem}
header.top nav a{display:inline-block;color:#e2e8f0;text-decoration:none;padding:.4rem .6rem;border-radius:6px}
header.top nav a:hover{background:#1e293b;color:#fff}
header.top nav a[aria-current=page]{background:#fff;color:#0f172a;font-weight:600}
header.top :focus-visible{outline-color:#fbbf24}
header.top .who{display:flex;align-items:center;gap:.5rem;font-size:.9rem;color:#cbd5e1}
header.top .who button{background:transparent;color:#fff;border:1px solid #94a3b8;padding:.3rem .7rem}
main{max-width:72rem;margin:0 auto;padding:1rem}
h1{font-size:1.6rem;margin:.5rem 0 1rem;line-height:1.25}h2{font-size:1.2rem;margin:1.5rem 0 .5rem}h3{font-size:1.05rem;margin:1rem 0 .5rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:var(--radius);padding:1rem;margin:0 0 1rem}
.card>h1:first-child,.card>h2:first-child,.card>h3:first-child{margin-top:0}
.muted{color:var(--muted)}
.small{font-size:.875rem}
.button,button{display:inline-block;font:inherit;font-weight:600;border-radius:6px;border:2px solid var(--brand);background:var(--brand);color:#fff;padding:.5rem 1rem;cursor:pointer;text-decoration:none;line-height:1.3}
.button:hover,button:hover{background:var(--brand-dark);border-color:var(--brand-dark);color:#fff}
.button.secondary,button.secondary{background:#fff;color:var(--brand)}
.button.secondary:hover,button.secondary:hover{background:#eff6ff;color:var(--brand-dark)}
.actions-row{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:1rem 0}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
.hint{display:block;font-weight:400;color:var(--muted);font-size:.9rem}
input[type=text],input[type=tel],input[type=password],input[type=file],select,textarea{font:inherit;width:100%;max-width:32rem;padding:.5rem;border:2px solid #64748b;border-radius:6px;background:#fff;color:var(--fg)}
input[type=file]{padding:.35rem}
fieldset{border:1px solid var(--line);border-radius:var(--radius);padding:.5rem 1rem 1rem;margin:0 0 1rem}
legend{font-weight:700;padding:0 .25rem}
.check{display:flex;gap:.5rem;align-items:flex-start;font-weight:400;margin:.5rem 0}
.check input{width:1.25rem;height:1.25rem;margin-top:.15rem;flex:none}
.alert{border-left:6px solid var(--bad);background:#fef2f2;padding:.75rem 1rem;margin:0 0 1rem;border-radius:4px}
.alert.ok{border-color:var(--ok);background:#f0fdf4}
.alert.info{border-color:var(--brand);background:#eff6ff}
.alert.warn{border-color:#b45309;background:#fffbeb}
.alert h2{margin:0 0 .25rem;font-size:1.05rem}
.alert p{margin:.25rem 0}
.badge{display:inline-block;border-radius:999px;padding:.05rem .6rem;font-size:.85rem;font-weight:600;border:1px solid currentColor;white-space:nowrap}
.badge.sending,.badge.syncing{color:#1e40af;background:#eff6ff}
.badge.completed,.badge.active{color:#166534;background:#f0fdf4}
.badge.cancelled,.badge.inactive{color:#92400e;background:#fffbeb}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.5rem;border-bottom:1px solid var(--line);vertical-align:top}
thead th{font-size:.875rem;color:var(--muted)}
.table-card{background:var(--card);border:1px solid var(--line);border-radius:var(--radius)}
progress{width:100%;max-width:10rem;height:.8rem;accent-color:var(--brand)}
.menu{position:relative}
.menu summary{list-style:none;cursor:pointer;display:inline-block;border:2px solid var(--brand);color:var(--brand);border-radius:6px;padding:.25rem .7rem;font-weight:600}
.menu summary::-webkit-details-marker{display:none}
.menu[open] summary{background:#eff6ff}
.menu ul{list-style:none;margin:.25rem 0 0;padding:.25rem;background:#fff;border:1px solid var(--line);border-radius:6px;box-shadow:0 4px 12px rgba(15,23,42,.15);min-width:14rem}
.menu li a{display:block;padding:.45rem .6rem;text-decoration:none;border-radius:4px}
.menu li a:hover{background:#eff6ff}
@media (min-width:641px){.menu ul{position:absolute;right:0;z-index:5}}
.pager{display:flex;gap:1rem;justify-content:space-between;margin:1rem 0}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(9rem,1fr));gap:.75rem;margin:0 0 1rem;padding:0;list-style:none}
.kpis li{background:var(--card);border:1px solid var(--line);border-radius:var(--radius);padding:.75rem}
.kpis .n{display:block;font-size:1.5rem;font-weight:700}
.kpis .l{color:var(--muted);font-size:.9rem}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,20rem),1fr));gap:1rem;margin:0 0 1rem}
.chart{margin:0;background:var(--card);border:1px solid var(--line);border-radius:var(--radius);padding:1rem}
.chart figcaption{font-weight:700;font-size:1.05rem;margin-bottom:.5rem}
.chart-box svg{display:block;max-width:26rem;height:auto}
.chart-scroll{overflow-x:auto}
.chart-scroll svg{display:block;min-width:30rem;max-width:48rem;height:auto}
.legend{list-style:none;display:flex;flex-wrap:wrap;gap:.25rem 1rem;padding:0;margin:.5rem 0 0;font-size:.9rem}
.legend li{display:flex;align-items:center;gap:.35rem}
.chart-data{margin-top:.5rem;font-size:.9rem}
.chart-data summary{cursor:pointer;color:var(--brand)}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}
dl.facts dt{font-weight:600;color:var(--muted)}dl.facts dd{margin:0}
ol.steps{list-style:none;counter-reset:step;display:flex;flex-wrap:wrap;gap:.25rem .5rem;padding:0;margin:0 0 1rem;font-size:.9rem}
ol.steps li{counter-increment:step;color:var(--muted);padding:.2rem .5rem;border-radius:999px;border:1px solid var(--line);background:#fff}
ol.steps li::before{content:counter(step) ". "}
ol.steps li[aria-current=step]{color:#fff;background:var(--brand);border-color:var(--brand);font-weight:600}
ol.steps li.done{color:var(--ok);border-color:#86efac}
.segmented{display:flex;flex-wrap:wrap;gap:.5rem;margin:0 0 1rem}
.segmented a{border:2px solid var(--brand);border-radius:6px;padding:.4rem .9rem;text-decoration:none;font-weight:600}
.segmented a[aria-current=true]{background:var(--brand);color:#fff}
pre.preview{white-space:pre-wrap;background:#f1f5f9;border-radius:6px;padding:.75rem;margin:.25rem 0 0;font:inherit}
code{background:#f1f5f9;padding:0 .2rem;border-radius:3px}
footer{max-width:72rem;margin:2rem auto;padding:0 1rem;color:var(--muted);font-size:.85rem}
@media (max-width:640px){
 h1{font-size:1.35rem}
 table.responsive thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
 table.responsive,table.responsive tbody,table.responsive tr,table.responsive td,table.responsive th{display:block;width:100%}
 table.responsive tr{border-bottom:2px solid var(--line);padding:.5rem 0}
 table.responsive td,table.responsive th{border:0;padding:.2rem .75rem}
 table.responsive td[data-label]::before{content:attr(data-label);display:block;font-size:.8rem;font-weight:600;color:var(--muted)}
 .menu ul{position:static;box-shadow:none}
}
`;

export type NavKey = "campaigns" | "send" | "mm-lite" | null;

export interface LayoutProps {
  title: string;
  nonce: string;
  /** The signed-in bot; null on the sign-in page. */
  bot: { name: string } | null;
  csrf?: string;
  nav?: NavKey;
  /** Seconds between automatic reloads (meta refresh), for pages that follow a live campaign. */
  refreshSeconds?: number;
  children: Child;
}

const NAV: { key: Exclude<NavKey, null>; href: string; text: string }[] = [
  { key: "campaigns", href: "/portal/campaigns", text: "Active messages" },
  { key: "send", href: "/portal/send", text: "Send active message" },
  { key: "mm-lite", href: "/portal/mm-lite", text: "MM Lite API" },
];

export function Layout(p: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light" />
        <meta name="referrer" content="same-origin" />
        {p.refreshSeconds ? <meta http-equiv="refresh" content={String(p.refreshSeconds)} /> : null}
        <title>{`${p.title} · MM Lite gateway`}</title>
        <style nonce={p.nonce} dangerouslySetInnerHTML={{ __html: CSS }} />
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <div class="bar">
            <a class="brand" href={p.bot ? "/portal/campaigns" : "/portal/sign-in"}>
              MM Lite gateway
            </a>
            {p.bot ? (
              <>
                <nav aria-label="Main">
                  <ul>
                    {NAV.map((n) => (
                      <li>
                        <a href={n.href} aria-current={p.nav === n.key ? "page" : undefined}>
                          {n.text}
                        </a>
                      </li>
                    ))}
                  </ul>
                </nav>
                <form class="who" method="post" action="/portal/sign-out">
                  <span>
                    <span class="visually-hidden">Signed in as </span>
                    {p.bot.name}
                  </span>
                  <input type="hidden" name="_csrf" value={p.csrf ?? ""} />
                  <button type="submit">Sign out</button>
                </form>
              </>
            ) : null}
          </div>
        </header>
        <main id="main" tabindex={-1}>
          {p.children}
        </main>
        <footer>Times are shown in UTC.</footer>
      </body>
    </html>
  );
}

/** An error summary at the top of a form (announced, focusable targets linked). */
export function ErrorSummary(props: { title: string; messages: { text: string; field?: string }[] }) {
  if (props.messages.length === 0) return null;
  return (
    <div class="alert" role="alert" aria-labelledby="error-summary-title">
      <h2 id="error-summary-title">{props.title}</h2>
      <ul>
        {props.messages.map((m) => (
          <li>{m.field ? <a href={`#${m.field}`}>{m.text}</a> : m.text}</li>
        ))}
      </ul>
    </div>
  );
}

export function Badge(props: { kind: string; text: string }) {
  return <span class={`badge ${props.kind}`}>{props.text}</span>;
}
