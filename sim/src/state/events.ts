// Account and template events (`POST /_sim/webhooks/emit-event`): builds Meta's payload and, unless
// `apply: false`, makes the simulator's state agree with what the event announces.
import type { EventInput } from "../control/schemas";
import {
  mmLiteTermsSigned,
  templateCategoryUpdate,
  templateStatusUpdate,
  userPreferences,
  type WebhookPayload,
} from "../webhooks/build";
import type { Registry } from "./registry";

/** The payload travels as its JSON text (DO RPC types cannot carry arbitrary JSON values). */
export type EventResult = { body: string } | { error: string };

const ok = (payload: WebhookPayload): EventResult => ({ body: JSON.stringify(payload) });

export async function resolveEvent(reg: Registry, input: EventInput): Promise<EventResult> {
  const ts = input.timestamp ?? Math.floor(Date.now() / 1000);
  switch (input.kind) {
    case "mm_lite_terms_signed": {
      const waba = reg.store.wabas.get(input.wabaId);
      if (!waba) return { error: `unknown WABA ${input.wabaId}` };
      if (input.apply) await reg.setOnboarding(waba.id, { onboardingStatus: "ONBOARDED" });
      return ok(mmLiteTermsSigned(waba.id, waba.ownerBusinessId, ts));
    }
    case "message_template_status_update": {
      const t = reg.store.findTemplate(input.wabaId, input.name, input.language);
      if (!t) return { error: `unknown template ${input.name}/${input.language} on WABA ${input.wabaId}` };
      if (input.apply) await reg.putTemplate(t.wabaId, t.name, t.language, { status: input.event });
      return ok(templateStatusUpdate(t, input.event, input.reason, ts));
    }
    case "template_category_update": {
      const t = reg.store.findTemplate(input.wabaId, input.name, input.language);
      if (!t) return { error: `unknown template ${input.name}/${input.language} on WABA ${input.wabaId}` };
      const previous = t.category;
      if (input.apply) await reg.putTemplate(t.wabaId, t.name, t.language, { category: input.newCategory });
      return ok(templateCategoryUpdate(t, previous, input.newCategory, ts));
    }
    case "user_preferences": {
      const n = reg.store.numbers.get(input.phoneNumberId);
      if (!n) return { error: `unknown phone number ${input.phoneNumberId}` };
      return ok(
        userPreferences(
          {
            wabaId: n.wabaId,
            phoneNumberId: n.id,
            displayPhoneNumber: n.displayPhoneNumber,
            waId: input.waId,
            value: input.value,
            name: input.name,
          },
          ts,
        ),
      );
    }
  }
}
