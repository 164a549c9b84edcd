// Every piece of state lives in the one SimState class: a single "registry" instance (WABAs,
// templates, faults, Graph reads, stats roll-up) and one "line" instance per phone number (throughput
// window, sends, messages). One class keeps vitest.config.ts's DO registration unchanged.
import type { SimState } from "./sim-state";

export function registryStub(env: SimEnv): DurableObjectStub<SimState> {
  return env.SIM_STATE.get(env.SIM_STATE.idFromName("registry"));
}

export function lineStub(env: SimEnv, phoneNumberId: string): DurableObjectStub<SimState> {
  return env.SIM_STATE.get(env.SIM_STATE.idFromName(`line:${phoneNumberId}`));
}
