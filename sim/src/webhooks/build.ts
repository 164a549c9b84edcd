// Builders for the webhook payloads Meta posts, shaped as in docs/meta-platform.md. Statuses are
// grouped the way Meta batches them: one entry per WABA, one change per phone number.
import type { Category, Product } from "../types";

/** Every webhook Meta posts for a WABA has this envelope. */
export interface WebhookPayload {
  object: "whatsapp_business_account";
  entry: Record<string, unknown>[];
}

export type WebhookStatus = "sent" | "delivered" | "read" | "failed";

export interface StatusItem {
  wabaId: string;
  phoneNumberId: string;
  displayPhoneNumber: string;
  wamid: string;
  to: string;
  product: Product;
  category: Category;
  status: WebhookStatus;
  /** Unix seconds. */
  timestamp: number;
  error?: { code: number; title: string; message?: string; details?: string };
}

/** `marketing_lite` tells the gateway MM Lite carried the message; otherwise the template category. */
export function pricingCategory(product: Product, category: Category): string {
  return product === "mm_lite" ? "marketing_lite" : category.toLowerCase();
}

function statusObject(item: StatusItem): Record<string, unknown> {
  const obj: Record<string, unknown> = {
    id: item.wamid,
    status: item.status,
    timestamp: String(item.timestamp),
    recipient_id: item.to,
  };
  // Meta attaches pricing to sent / delivered, not to read or failed.
  if (item.status === "sent" || item.status === "delivered") {
    obj.pricing = {
      billable: true,
      pricing_model: "PMP",
      type: "regular",
      category: pricingCategory(item.product, item.category),
    };
  }
  if (item.status === "failed") {
    const e = item.error ?? { code: 131026, title: "Message undeliverable" };
    obj.errors = [
      {
        code: e.code,
        title: e.title,
        message: e.message ?? e.title,
        error_data: { details: e.details ?? e.title },
      },
    ];
  }
  return obj;
}

export function buildStatusPayload(items: StatusItem[]): WebhookPayload {
  const byWaba = new Map<string, Map<string, { item: StatusItem; statuses: unknown[] }>>();
  for (const item of items) {
    let phones = byWaba.get(item.wabaId);
    if (!phones) {
      phones = new Map();
      byWaba.set(item.wabaId, phones);
    }
    let change = phones.get(item.phoneNumberId);
    if (!change) {
      change = { item, statuses: [] };
      phones.set(item.phoneNumberId, change);
    }
    change.statuses.push(statusObject(item));
  }
  return {
    object: "whatsapp_business_account",
    entry: [...byWaba].map(([wabaId, phones]) => ({
      id: wabaId,
      changes: [...phones.values()].map(({ item, statuses }) => ({
        field: "messages",
        value: {
          messaging_product: "whatsapp",
          metadata: { display_phone_number: item.displayPhoneNumber, phone_number_id: item.phoneNumberId },
          statuses,
        },
      })),
    })),
  };
}

function envelope(entryId: string, field: string, value: unknown, timestamp: number): WebhookPayload {
  return {
    object: "whatsapp_business_account",
    entry: [{ id: entryId, time: timestamp, changes: [{ field, value }] }],
  };
}

export function mmLiteTermsSigned(
  wabaId: string,
  ownerBusinessId: string,
  timestamp: number,
): WebhookPayload {
  return envelope(
    wabaId,
    "account_update",
    { event: "MM_LITE_TERMS_SIGNED", waba_info: { waba_id: wabaId, owner_business_id: ownerBusinessId } },
    timestamp,
  );
}

export interface TemplateRef {
  wabaId: string;
  id: string;
  name: string;
  language: string;
}

export function templateStatusUpdate(
  t: TemplateRef,
  event: string,
  reason: string,
  timestamp: number,
): WebhookPayload {
  return envelope(
    t.wabaId,
    "message_template_status_update",
    {
      event,
      message_template_id: Number(t.id),
      message_template_name: t.name,
      message_template_language: t.language,
      reason,
    },
    timestamp,
  );
}

export function templateCategoryUpdate(
  t: TemplateRef,
  previousCategory: Category,
  newCategory: Category,
  timestamp: number,
): WebhookPayload {
  return envelope(
    t.wabaId,
    "template_category_update",
    {
      message_template_id: Number(t.id),
      message_template_name: t.name,
      message_template_language: t.language,
      previous_category: previousCategory,
      new_category: newCategory,
    },
    timestamp,
  );
}

export interface UserPreferenceRef {
  wabaId: string;
  phoneNumberId: string;
  displayPhoneNumber: string;
  waId: string;
  value: "stop" | "resume";
  name?: string;
}

export function userPreferences(p: UserPreferenceRef, timestamp: number): WebhookPayload {
  return envelope(
    p.wabaId,
    "user_preferences",
    {
      messaging_product: "whatsapp",
      metadata: { display_phone_number: p.displayPhoneNumber, phone_number_id: p.phoneNumberId },
      contacts: [{ profile: { name: p.name ?? "Customer" }, wa_id: p.waId }],
      user_preferences: [
        {
          wa_id: p.waId,
          detail:
            p.value === "stop"
              ? "User requested to stop marketing messages"
              : "User requested to resume marketing messages",
          category: "marketing_messages",
          value: p.value,
          timestamp,
        },
      ],
    },
    timestamp,
  );
}
