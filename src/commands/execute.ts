import { jsonAudience } from "../campaigns/audience";
import { createCampaign } from "../campaigns/create";
import { campaignDetail, findCampaign } from "../campaigns/queries";
import { campaignListItem } from "../campaigns/views";
import type { BotRow } from "../db/schema";
import { type StoredAnswer, withIdempotency } from "../http/idempotency";
import { AppError, type ProblemBody, problemBody } from "../lib/errors";
import { approvedTemplate } from "../routing/service";
import {
  type Command,
  type CommandAnswer,
  CommandFailure,
  checkEnvelope,
  checkMethod,
  failure,
  MEDIA_TYPES,
  paging,
  parseUri,
  REASON,
  success,
} from "./envelope";
import { type FullCampaignPlan, planFullCampaign } from "./full-campaign";
import { resolveLanguage } from "./languages";
import { campaignPage, reportPage } from "./queries";
import { campaignResource, collection, reasonFromProblem, reportItem, summaryResource } from "./resources";

/**
 * Carries out one command for a bot with the /v1 use cases (createCampaign, campaignDetail,
 * findCampaign): this module only translates. Every outcome is an answer envelope; only errors
 * the use cases do not expect (5xx) propagate, as they would from /v1.
 */
export async function executeCommand(
  env: Env,
  bot: BotRow,
  cmd: Command,
  now = Date.now(),
): Promise<CommandAnswer> {
  const caller = `${bot.id}@msging.net`;
  try {
    checkEnvelope(cmd);
    const { route, query } = parseUri(cmd.uri);
    checkMethod(cmd.method, route, cmd.uri);
    switch (route.kind) {
      case "full_campaign":
        return await setFullCampaign(env, bot, cmd, caller, now);
      case "campaigns": {
        const { skip, take } = paging(query);
        const page = await campaignPage(env, bot.id, skip, take);
        return success(
          cmd,
          caller,
          MEDIA_TYPES.collection,
          collection(MEDIA_TYPES.campaign, page.total, page.items.map(campaignResource)),
        );
      }
      case "campaign":
        return success(
          cmd,
          caller,
          MEDIA_TYPES.campaign,
          campaignResource(await campaignDetail(env, bot.id, route.id)),
        );
      case "summaries": {
        const campaign = campaignListItem(await findCampaign(env, bot.id, route.id));
        return success(cmd, caller, MEDIA_TYPES.summary, summaryResource(campaign));
      }
      case "reports": {
        const { skip, take } = paging(query, 100);
        const page = await reportPage(env, bot.id, route.id, skip, take);
        return success(
          cmd,
          caller,
          MEDIA_TYPES.collection,
          collection(MEDIA_TYPES.report, page.total, page.items.map(reportItem)),
        );
      }
    }
  } catch (err) {
    if (err instanceof CommandFailure) return failure(cmd, caller, err.code, err.description);
    if (err instanceof AppError && err.status < 500) return fromProblem(cmd, caller, problemBody(err));
    if (err instanceof AppError && err.code === "meta_unavailable") {
      return failure(
        cmd,
        caller,
        REASON.general,
        `${err.detail ?? err.title}; retry later (meta_unavailable)`,
      );
    }
    throw err;
  }
}

const IDEMPOTENCY_ROUTE = "POST /commands set /campaign/full";

/**
 * The envelope id is the idempotency key of a `set` (api.md "Idempotency"): the same id with the
 * same envelope (same JSON value) gets the first answer again and creates nothing; the same id with
 * another envelope is a failure (code 1) that says so — not /v1's HTTP 409, since a command is
 * always answered with an envelope. Keys share the bot's idempotency table with `Idempotency-Key`,
 * under a `cmd:` prefix so the two never collide. Refusals (4xx) are stored and replayed too; an
 * envelope that fails validation never reaches the store (its answer is the same every time).
 */
async function setFullCampaign(
  env: Env,
  bot: BotRow,
  cmd: Command,
  caller: string,
  now: number,
): Promise<CommandAnswer> {
  const type = typeof cmd.type === "string" ? cmd.type.trim().toLowerCase() : cmd.type;
  if (type !== MEDIA_TYPES.fullCampaign) {
    throw new CommandFailure(
      REASON.invalidResource,
      `type must be ${MEDIA_TYPES.fullCampaign} for set /campaign/full; it was ${JSON.stringify(cmd.type ?? null)}`,
    );
  }
  const plan = planFullCampaign(cmd.resource, now);
  let stored: StoredAnswer;
  try {
    stored = await withIdempotency(
      env.DB,
      {
        botId: bot.id,
        key: cmd.id === undefined ? undefined : `cmd:${cmd.id}`,
        route: IDEMPOTENCY_ROUTE,
      },
      cmd.raw,
      () => startCampaign(env, bot, plan),
    );
  } catch (err) {
    if (err instanceof AppError && err.status < 500) return fromProblem(cmd, caller, problemBody(err));
    throw err;
  }
  if (stored.status >= 400) return fromProblem(cmd, caller, stored.body as ProblemBody);
  return success(
    cmd,
    caller,
    MEDIA_TYPES.campaign,
    campaignResource(stored.body as Parameters<typeof campaignResource>[0]),
  );
}

async function startCampaign(env: Env, bot: BotRow, plan: FullCampaignPlan) {
  const language = await resolveLanguage(env, bot.wabaId, plan.template, plan.language);
  const template = { name: plan.template, language };
  if (plan.keys !== null) {
    // The keys apply to every recipient: a count that cannot match is one clear refusal, not a
    // campaign of invalid rows (a header media key such as "0" is the usual cause).
    const info = await approvedTemplate(env, bot.wabaId, template, null);
    if (plan.keys.length !== info.paramCount) {
      throw new AppError(422, "template_params_mismatch", "Template parameter count differs", {
        detail:
          `${info.name} (${info.language}) takes ${info.paramCount} body parameter(s); message.messageParams ` +
          `lists ${plan.keys.length} (${plan.keys.join(", ") || "none"}). Header media parameters are not supported`,
      });
    }
  }
  return createCampaign(env, bot, { name: plan.name, template, route: "auto" }, (opts) =>
    jsonAudience(plan.audience, opts),
  );
}

function fromProblem(cmd: Command, caller: string, p: ProblemBody): CommandAnswer {
  const { code, description } = reasonFromProblem(p, cmd.id);
  return failure(cmd, caller, code, description);
}
