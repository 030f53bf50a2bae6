// Parsing and validating OpenAI-style request bodies into prompts and generation configs.
import type { GenerationConfig } from '../config.js';
import type { ChatMessage } from './chat-template.js';
import { badRequest } from './openai-error.js';

/** Fields shared by /v1/completions and /v1/chat/completions. */
export interface ParsedRequest {
  model: string;
  stream: boolean;
  includeUsage: boolean;
  config: GenerationConfig;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(body: Record<string, unknown>, field: string, min: number, max: number): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw badRequest(`'${field}' must be a number in [${min}, ${max}], got ${JSON.stringify(v)}`, field, 'invalid_value');
  return v;
}

function int(body: Record<string, unknown>, field: string, min: number, max: number): number | undefined {
  const v = num(body, field, min, max);
  if (v !== undefined && !Number.isInteger(v)) throw badRequest(`'${field}' must be an integer, got ${v}`, field, 'invalid_value');
  return v;
}

/** Parses the fields both endpoints share; `maxTokensLimit` caps max_tokens. */
export function parseCommon(body: unknown, maxTokensLimit: number, defaultMaxTokens: number): ParsedRequest {
  if (!isObject(body)) throw badRequest('the request body must be a JSON object');
  if (typeof body.model !== 'string' || body.model.length === 0) throw badRequest("'model' is required (a string); GET /v1/models lists the ids", 'model', 'missing_required_parameter');
  const maxTokens = int(body, 'max_completion_tokens', 0, maxTokensLimit) ?? int(body, 'max_tokens', 0, maxTokensLimit) ?? defaultMaxTokens;
  const temperature = num(body, 'temperature', 0, 2);
  const topP = num(body, 'top_p', 0, 1);
  const topK = int(body, 'top_k', 0, 1_000_000);
  const minP = num(body, 'min_p', 0, 0.999999);
  const repetitionPenalty = num(body, 'repetition_penalty', 0.01, 100);
  const seed = int(body, 'seed', -(2 ** 53), 2 ** 53);
  for (const field of ['frequency_penalty', 'presence_penalty']) {
    const v = num(body, field, -2, 2);
    if (v !== undefined && v !== 0) throw badRequest(`'${field}' is not supported by this server; use 'repetition_penalty'`, field, 'unsupported_parameter');
  }
  const n = int(body, 'n', 1, 1);
  void n;
  let stop: string[] | undefined;
  if (body.stop !== undefined && body.stop !== null) {
    const raw = Array.isArray(body.stop) ? body.stop : [body.stop];
    if (raw.length > 4 || !raw.every((s) => typeof s === 'string' && s.length > 0)) throw badRequest("'stop' must be a non-empty string or a list of up to 4", 'stop', 'invalid_value');
    stop = raw as string[];
  }
  if (body.stream !== undefined && typeof body.stream !== 'boolean') throw badRequest("'stream' must be a boolean", 'stream', 'invalid_type');
  const streamOptions = isObject(body.stream_options) ? body.stream_options : {};
  // NOTE: OpenAI's temperature 0 means greedy; its default (1, top_p 1) means plain sampling.
  const greedy = temperature === 0;
  const config: GenerationConfig = {
    max_new_tokens: maxTokens,
    do_sample: !greedy,
    ...(greedy || temperature === undefined ? {} : { temperature }),
    top_k: topK ?? 0,
    ...(topP === undefined || topP === 0 ? {} : { top_p: topP }),
    ...(minP === undefined ? {} : { min_p: minP }),
    ...(repetitionPenalty === undefined ? {} : { repetition_penalty: repetitionPenalty }),
    ...(seed === undefined ? {} : { seed }),
    ...(stop === undefined ? {} : { stop }),
  };
  return { model: body.model, stream: body.stream === true, includeUsage: streamOptions.include_usage === true, config };
}

/** The prompt of a /v1/completions body (a string, or a one-element list). */
export function parsePrompt(body: Record<string, unknown>): string {
  const p = body.prompt;
  if (typeof p === 'string') return p;
  if (Array.isArray(p) && p.length === 1 && typeof p[0] === 'string') return p[0];
  if (Array.isArray(p)) throw badRequest("'prompt' lists of more than one string are not supported; send one request per prompt", 'prompt', 'unsupported_value');
  throw badRequest("'prompt' is required (a string)", 'prompt', 'missing_required_parameter');
}

/** The messages of a /v1/chat/completions body, with string (or text-part) content. */
export function parseMessages(body: Record<string, unknown>): ChatMessage[] {
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) throw badRequest("'messages' must be a non-empty list", 'messages', 'missing_required_parameter');
  return messages.map((m, i) => {
    if (!isObject(m)) throw badRequest(`messages[${i}] must be an object`, `messages[${i}]`);
    const role = m.role === 'developer' ? 'system' : m.role;
    if (role !== 'system' && role !== 'user' && role !== 'assistant') throw badRequest(`messages[${i}].role must be system, user or assistant, got ${JSON.stringify(m.role)}`, `messages[${i}].role`);
    let content = m.content;
    if (Array.isArray(content)) content = content.map((part) => (isObject(part) && part.type === 'text' && typeof part.text === 'string' ? part.text : '')).join('');
    if (typeof content !== 'string') throw badRequest(`messages[${i}].content must be a string`, `messages[${i}].content`);
    return { role, content };
  });
}
