import { DurableObject } from "cloudflare:workers";

export class WabaGate extends DurableObject<Env> {}

export default {
  async fetch(): Promise<Response> {
    return Response.json({ ok: true });
  },
} satisfies ExportedHandler<Env>;
