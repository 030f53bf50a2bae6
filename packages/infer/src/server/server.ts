// serve(): an OpenAI-compatible HTTP API (/v1/models, /v1/completions, /v1/chat/completions with SSE) and a chat page.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GenerationConfig } from '../config.js';
import { isLmkitError } from '@lmkit/core';
import { generate, type CausalLM, type GenerationStats, type TextTokenizer } from '../generate.js';
import type { BatchCausalLM } from '../generate-batch.js';
import { Batcher } from './batcher.js';
import { plainChatTemplate } from './chat-template.js';
import { ApiError, badRequest } from './openai-error.js';
import { RequestQueue } from './queue.js';
import { parseCommon, parseMessages, parsePrompt } from './requests.js';

/** A model the server offers under an id. */
export interface ServedModel {
  /** The id clients put in `model` (e.g. the checkpoint folder's name). */
  id: string;
  model: CausalLM;
  tokenizer: TextTokenizer;
  /** Generation defaults applied before the request's own fields. */
  defaults?: GenerationConfig;
}

/** Options of {@link serve}; every field has a safe default. */
export interface ServeOptions {
  /** The models to serve (at least one). */
  models: ServedModel[];
  /** TCP port; 0 picks a free one. Default 8080. */
  port?: number;
  /** Interface to listen on. Default '127.0.0.1' (local only). */
  host?: string;
  /** Largest request body accepted, in bytes; larger gets 413. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Largest max_tokens a request may ask for. Default 1024. */
  maxTokens?: number;
  /** max_tokens when a request gives none. Default 128. */
  defaultMaxTokens?: number;
  /** Requests generating at once. Default 1 (or `batchSize` when that is larger). */
  concurrency?: number;
  /**
   * Most requests decoded together in one batch (one forward per step) for models that can run batches
   * (`fromDecoderLM` runners); requests arriving while a batch runs form the next one. 1 serves them one
   * at a time. Default 1.
   */
  batchSize?: number;
  /** Requests allowed to wait; more get 429. Default 64. */
  maxWaiting?: number;
  /** Folder served at / (the chat page). Default: the package's own `static/` folder. */
  staticDir?: string;
}

/** A running server. */
export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  port: number;
  server: Server;
  /** Requests running and waiting now. */
  load(): { active: number; queued: number };
  /** Stops accepting connections and closes open ones. */
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

/** The package's own static folder (works from src/ and from dist/). */
export function defaultStaticDir(): string {
  for (const rel of ['../static/', '../../static/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  return fileURLToPath(new URL('../static/', import.meta.url));
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, error: unknown): void {
  const api =
    error instanceof ApiError
      ? error
      : isLmkitError(error)
        ? new ApiError(400, (error as Error).message, 'invalid_request_error', null, String((error as { code: string }).code).toLowerCase())
        : new ApiError(500, 'internal server error', 'server_error', null, 'internal_error');
  if (api.status === 500) process.stderr.write(`lmkit serve: internal error: ${(error as Error)?.stack ?? String(error)}\n`);
  if (res.headersSent) {
    // NOTE: mid-stream, the status line is gone; OpenAI streams report errors as a data event.
    if (!res.writableEnded) res.end(`data: ${JSON.stringify(api.body())}\n\n`);
    return;
  }
  sendJson(res, api.status, api.body());
}

async function readBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw new ApiError(413, `request body of ${declared} bytes exceeds the ${limit}-byte limit`, 'invalid_request_error', null, 'body_too_large');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new ApiError(413, `request body exceeds the ${limit}-byte limit`, 'invalid_request_error', null, 'body_too_large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest(`the request body is not valid JSON (${(error as Error).message})`, null, 'invalid_json');
  }
}

/**
 * Starts the server. The chat page is at `/`; the API at `/v1`.
 *
 * @example
 * const server = await serve({ models: [{ id: 'tiny', model, tokenizer }], port: 8080 });
 * // curl http://127.0.0.1:8080/v1/models
 */
export async function serve(options: ServeOptions): Promise<RunningServer> {
  if (options.models.length === 0) throw badRequest('serve() needs at least one model');
  const byId = new Map(options.models.map((m) => [m.id, m]));
  const batchSize = options.batchSize ?? 1;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw badRequest(`serve(): batchSize must be an integer ≥ 1, got ${batchSize}`);
  const queue = new RequestQueue({ concurrency: Math.max(options.concurrency ?? 1, batchSize), maxWaiting: options.maxWaiting ?? 64 });
  const batchers = new Map<ServedModel, Batcher>();
  for (const m of options.models) {
    const model = m.model as Partial<BatchCausalLM>;
    if (batchSize > 1 && typeof model.nextLogitsBatch === 'function' && typeof model.newBatchCache === 'function') {
      batchers.set(m, new Batcher(m.model as BatchCausalLM, m.tokenizer, batchSize));
    }
  }
  const maxBody = options.maxBodyBytes ?? 1 << 20;
  const maxTokens = options.maxTokens ?? 1024;
  const defaultMaxTokens = options.defaultMaxTokens ?? 128;
  const staticDir = resolve(options.staticDir ?? defaultStaticDir());
  const created = Math.floor(Date.now() / 1000);

  const findModel = (id: string): ServedModel => {
    const m = byId.get(id);
    if (!m) throw new ApiError(404, `The model '${id}' does not exist; available: ${[...byId.keys()].join(', ')}`, 'invalid_request_error', 'model', 'model_not_found');
    return m;
  };

  async function complete(req: IncomingMessage, res: ServerResponse, chat: boolean): Promise<void> {
    const body = (await readBody(req, maxBody)) as Record<string, unknown>;
    const parsed = parseCommon(body, maxTokens, defaultMaxTokens);
    const served = findModel(parsed.model);
    const messages = chat ? parseMessages(body) : undefined;
    const prompt = messages ? plainChatTemplate.render(messages) : parsePrompt(body);
    const config: GenerationConfig = { ...served.defaults, ...parsed.config };
    if (messages) config.stop = [...plainChatTemplate.stop, ...(config.stop ?? [])];
    const abort = new AbortController();
    res.on('close', () => abort.abort(new Error('client disconnected')));
    const release = await queue.acquire(abort.signal);
    try {
      const id = `${chat ? 'chatcmpl' : 'cmpl'}-${randomBytes(12).toString('hex')}`;
      const object = chat ? (parsed.stream ? 'chat.completion.chunk' : 'chat.completion') : 'text_completion';
      const base = { id, object, created: Math.floor(Date.now() / 1000), model: served.id };
      const stats: GenerationStats = { promptTokens: 0, completionTokens: 0, truncated: false };
      const usage = () => ({ prompt_tokens: stats.promptTokens, completion_tokens: stats.completionTokens, total_tokens: stats.promptTokens + stats.completionTokens });
      const batcher = batchers.get(served);
      const stream = batcher
        ? batcher.stream(prompt, config, { signal: abort.signal, stats })
        : generate(served.model, served.tokenizer, prompt, config, { signal: abort.signal, stats });
      if (parsed.stream) {
        let started = false;
        const send = (payload: unknown) => res.write(`data: ${JSON.stringify(payload)}\n\n`);
        for await (const chunk of stream) {
          if (!started) {
            res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
            started = true;
            if (chat) send({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] });
          }
          const finish = chunk.finishReason ?? null;
          if (chunk.text.length > 0 || finish) {
            if (chat) {
              if (chunk.text.length > 0) send({ ...base, choices: [{ index: 0, delta: { content: chunk.text }, logprobs: null, finish_reason: null }] });
              if (finish) send({ ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: finish }] });
            } else send({ ...base, choices: [{ index: 0, text: chunk.text, logprobs: null, finish_reason: finish }] });
          }
        }
        if (parsed.includeUsage) send({ ...base, choices: [], usage: usage() });
        res.end('data: [DONE]\n\n');
      } else {
        let text = '';
        let finish: string = 'length';
        for await (const chunk of stream) {
          text += chunk.text;
          if (chunk.finishReason) finish = chunk.finishReason;
        }
        const choice = chat
          ? { index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: finish }
          : { index: 0, text, logprobs: null, finish_reason: finish };
        sendJson(res, 200, { ...base, choices: [choice], usage: usage() });
      }
    } finally {
      release();
    }
  }

  async function serveStatic(urlPath: string, res: ServerResponse, headOnly: boolean): Promise<void> {
    let rel: string;
    try {
      rel = decodeURIComponent(urlPath);
    } catch {
      throw badRequest('malformed URL path');
    }
    if (rel.includes('\0')) throw badRequest('malformed URL path');
    if (rel === '/' || rel === '') rel = '/index.html';
    const path = resolve(staticDir, '.' + rel);
    // NOTE: resolve() collapses ../ segments; anything that lands outside staticDir is refused.
    if (path !== staticDir && !path.startsWith(staticDir.endsWith(sep) ? staticDir : staticDir + sep)) throw new ApiError(404, 'not found', 'not_found_error');
    const info = await stat(path).catch(() => null);
    if (!info || !info.isFile()) throw new ApiError(404, `no such page: ${urlPath}`, 'not_found_error');
    const data = await readFile(path);
    res.writeHead(200, { 'content-type': MIME[extname(path)] ?? 'application/octet-stream', 'content-length': data.length, 'x-content-type-options': 'nosniff' });
    res.end(headOnly ? undefined : data);
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = `${req.method} ${url.pathname.replace(/\/+$/, '') || '/'}`;
    const handle = async (): Promise<void> => {
      switch (route) {
        case 'GET /v1/models':
          return sendJson(res, 200, { object: 'list', data: [...byId.keys()].map((id) => ({ id, object: 'model', created, owned_by: 'lmkit' })) });
        case 'POST /v1/completions':
          return complete(req, res, false);
        case 'POST /v1/chat/completions':
          return complete(req, res, true);
        case 'GET /health':
          return sendJson(res, 200, { status: 'ok', ...{ active: queue.active, queued: queue.queued } });
        default:
          if (url.pathname.startsWith('/v1/')) {
            const known = ['/v1/models', '/v1/completions', '/v1/chat/completions'].includes(url.pathname.replace(/\/+$/, ''));
            throw known ? new ApiError(405, `method ${req.method} not allowed on ${url.pathname}`, 'invalid_request_error', null, 'method_not_allowed') : new ApiError(404, `unknown endpoint ${url.pathname}`, 'invalid_request_error', null, 'unknown_url');
          }
          if (req.method === 'GET' || req.method === 'HEAD') return serveStatic(url.pathname, res, req.method === 'HEAD');
          throw new ApiError(405, `method ${req.method} not allowed`, 'invalid_request_error', null, 'method_not_allowed');
      }
    };
    handle().catch((error) => {
      if ((error as ApiError)?.status === 499 || (isLmkitError(error) && (error as { code: string }).code === 'INFER_ABORTED')) {
        if (!res.writableEnded) res.destroy();
        return;
      }
      sendError(res, error);
    });
  });
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, options.host ?? '127.0.0.1', () => resolvePromise());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 8080);
  const host = options.host ?? '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    server,
    load: () => ({ active: queue.active, queued: queue.queued }),
    close: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections?.();
        server.close(() => resolveClose());
      }),
  };
}
