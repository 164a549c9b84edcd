// Meta signs every webhook POST with HMAC-SHA256 of the raw body keyed with the app secret and sends
// it as `X-Hub-Signature-256: sha256=<hex>`. The gateway must verify exactly these bytes.

export async function signBody(secret: string, body: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey(
    "raw",
    enc.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(body)));
  let hex = "";
  for (const b of mac) hex += b.toString(16).padStart(2, "0");
  return `sha256=${hex}`;
}
