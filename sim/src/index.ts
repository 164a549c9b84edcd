import { DurableObject } from "cloudflare:workers";

export class SimState extends DurableObject<SimEnv> {
  async ping(): Promise<string> {
    return "pong";
  }
}

export default {
  async fetch(): Promise<Response> {
    return Response.json({ sim: true });
  },
} satisfies ExportedHandler<SimEnv>;
