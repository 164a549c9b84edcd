import { env } from "cloudflare:workers";
import fc from "fast-check";
import Papa from "papaparse";
import { describe, expect, it } from "vitest";
import { csvCell, REPORT_HEADER, reportLine } from "../../src/campaigns/report";
import { gw, setupBot } from "../helpers";

describe("report cells (pure)", () => {
  it("quotes per RFC 4180 and neutralises formula starts", () => {
    expect(csvCell(null)).toBe("");
    expect(csvCell(131049)).toBe("131049");
    expect(csvCell("plain")).toBe("plain");
    expect(csvCell('say "hi", bye')).toBe('"say ""hi"", bye"');
    expect(csvCell("two\nlines")).toBe('"two\nlines"');
    for (const bad of ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx"]) {
      expect(csvCell(bad).replace(/^"/, "").startsWith("'")).toBe(true);
    }
    expect(csvCell("\rx")).toBe('"\'\rx"');
    expect(csvCell('=HYPERLINK("x")')).toBe('"\'=HYPERLINK(""x"")"');
    // A valid E.164 phone keeps its +; anything else in the phone column does not.
    expect(csvCell("+5511999990001", "phone")).toBe("+5511999990001");
    expect(csvCell("+12ab", "phone")).toBe("'+12ab");
    expect(csvCell("=cmd|' /C calc'!A0", "phone")).toBe("'=cmd|' /C calc'!A0");
    expect(csvCell("+5511999990001", "error_title")).toBe("'+5511999990001");
  });

  it("any row parses back (RFC 4180) to its cells, neutralised ones with a leading '", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string(), fc.constant(null)), { minLength: 13, maxLength: 13 }),
        (cells) => {
          const line = reportLine({
            to: cells[0] ?? "",
            status: "failed",
            route: "cloud_api",
            routeReason: "waba_not_onboarded",
            confirmedRoute: null,
            wamid: cells[5] ?? null,
            errorCode: null,
            errorTitle: cells[7] ?? null,
            acceptedAt: cells[8] ?? null,
            sentAt: null,
            deliveredAt: null,
            readAt: null,
            failedAt: null,
          });
          expect(line.endsWith("\r\n")).toBe(true);
          // Parsed back with papaparse's core parser (the one audience intake uses).
          const parser = new Papa.Parser({ delimiter: ",", newline: "\r\n" });
          const parsed = parser.parse(line, 0, false).data[0] as string[];
          expect(parsed).toHaveLength(13);
          const checks: [number, string | null][] = [
            [0, cells[0] ?? ""],
            [5, cells[5] ?? null],
            [7, cells[7] ?? null],
            [8, cells[8] ?? null],
          ];
          for (const [i, original] of checks) {
            const expected =
              original === null
                ? ""
                : /^[=+\-@\t\r]/.test(original) && !(i === 0 && /^\+[1-9]\d{6,14}$/.test(original))
                  ? `'${original}`
                  : original;
            expect(parsed[i]).toBe(expected);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("GET /v1/campaigns/{id}/report.csv", () => {
  it("streams every recipient in audience order with the exact header", async () => {
    const bot = await setupBot();
    const campaignId = "cmp_report1";
    const n = 2_345;
    await env.DB.prepare(
      `INSERT INTO campaigns (id, bot_id, name, type, template_name, template_language, template_category, route, route_reason, status, total, created_at)
       VALUES (?, ?, 'r', 'batch', 'fall_sale', 'pt_BR', 'MARKETING', 'mm_lite', 'mm_lite_active', 'completed', ?, '2026-11-29T14:00:00.000Z')`,
    )
      .bind(campaignId, bot.id, n)
      .run();
    const rows = Array.from({ length: n }, (_, i) =>
      i === 7
        ? [i, "=cmd", "invalid", null, null, null, "invalid_phone", null]
        : i === 8
          ? [
              i,
              "+5511900000008",
              "failed",
              null,
              null,
              131049,
              'Meta chose, "not" to deliver',
              "2026-11-29T14:01:00.000Z",
            ]
          : [i, `+55119${String(i).padStart(8, "0")}`, "read", `wamid.${i}`, "mm_lite", null, null, null],
    );
    for (let i = 0; i < rows.length; i += 500) {
      await env.DB.prepare(
        `INSERT INTO messages (id, campaign_id, bot_id, seq, "to", route, route_reason, status, wamid, confirmed_route, error_code, error_title, failed_at,
           accepted_at, read_at, created_at)
         SELECT 'msg_r' || json_extract(j.value,'$[0]'), ?1, ?2, json_extract(j.value,'$[0]'), json_extract(j.value,'$[1]'), 'mm_lite', 'mm_lite_active',
           json_extract(j.value,'$[2]'), json_extract(j.value,'$[3]'), json_extract(j.value,'$[4]'), json_extract(j.value,'$[5]'),
           json_extract(j.value,'$[6]'), json_extract(j.value,'$[7]'),
           CASE WHEN json_extract(j.value,'$[2]') = 'read' THEN '2026-11-29T14:00:01.000Z' END,
           CASE WHEN json_extract(j.value,'$[2]') = 'read' THEN '2026-11-29T14:00:09.000Z' END, '2026-11-29T14:00:00.000Z'
         FROM json_each(?3) AS j`,
      )
        .bind(campaignId, bot.id, JSON.stringify(rows.slice(i, i + 500)))
        .run();
    }
    const res = await gw(`/v1/campaigns/${campaignId}/report.csv`, { key: bot.apiKey });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    const text = await res.text();
    const lines = text.split("\r\n");
    expect(lines[0]).toBe(REPORT_HEADER.join(","));
    expect(lines[0]).toBe(
      "phone,status,route,route_reason,confirmed_route,wamid,error_code,error_title,accepted_at,sent_at,delivered_at,read_at,failed_at",
    );
    expect(lines).toHaveLength(n + 2); // header, n rows, and the empty string after the final CRLF
    expect(lines[1]).toBe(
      "+5511900000000,read,mm_lite,mm_lite_active,mm_lite,wamid.0,,,2026-11-29T14:00:01.000Z,,,2026-11-29T14:00:09.000Z,",
    );
    expect(lines[8]).toBe("'=cmd,invalid,mm_lite,mm_lite_active,,,,invalid_phone,,,,,");
    expect(lines[9]).toBe(
      '+5511900000008,failed,mm_lite,mm_lite_active,,,131049,"Meta chose, ""not"" to deliver",,,,,2026-11-29T14:01:00.000Z',
    );
    expect(lines[n]?.startsWith(`+55119${String(n - 1).padStart(8, "0")},`)).toBe(true);

    const other = await setupBot();
    expect((await gw(`/v1/campaigns/${campaignId}/report.csv`, { key: other.apiKey })).status).toBe(404);
  });
});
