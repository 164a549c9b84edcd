/** The Graph API surface of the gateway (the transport choice lives in ./transport.ts). */
export { MetaClient, type MetaClientOptions } from "./client";
export {
  backoffMs,
  classifyMetaError,
  isRetryable,
  MetaApiError,
  type MetaErrorClass,
  MetaUnreachableError,
  type RetryableMetaError,
  type ThrottleScope,
  type UnreachableReason,
} from "./errors";
export { buildTemplateMessageBody } from "./messages";
export { countTemplateParams, templateParamNames, usesNamedParams } from "./templates";
export type * from "./types";
