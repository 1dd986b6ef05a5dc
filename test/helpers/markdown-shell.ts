/**
 * Runs the `sh` blocks of a Markdown document against a test gateway, so a documented example is a
 * test and cannot drift from what the gateway does. It understands the commands our READMEs use:
 *
 * - `curl` with `-s -i -S -u -H -X -d/--data -F`: a request; the documented origins
 *   (`http://localhost:8080`, …) are mapped to the test servers, with the documented `Host`;
 * - `NAME=$(curl … | python3 -c '…["field"]…')` and `export NAME='…'`: variables; a value
 *   `paste-the-<what>-here` takes `<what>` from `pastes`, or else the field `<what>` of the previous
 *   JSON answer (what a reader copies from the output above);
 * - `curl … | grep -i <text>`: the answer's head or body must contain the text;
 * - `npm …` and `python3 -m http.server <port>` stand for what the test has started already, and so
 *   does any command the world lists in `standIns` (the test runs its function there instead);
 * - `openssl`, `node`, `mkdir` and `printf` (also as `NAME=$(…)`) run for real, in bash, in the
 *   world's `cwd` (`cd <dir>` moves it and `$PWD`), with the variables given by `export`: they make
 *   keys and certificates and sign JWTs as a reader's shell would. Each must exit 0.
 *
 * A trailing `# comment` is the expected outcome: a leading status (`# 403 …`), an error code
 * (`insufficient_scope`), challenge parameters (`scope="write"`), `Header-Name: prefix`,
 * `no error code`, `proxied to <url>` or `the upstream receives <METHOD> <path>`. A command without
 * an expected status must answer 2xx/3xx (or be forwarded, for the upstream phrases). Anything else
 * fails with the document's line number, so a new kind of example gets support here first.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { resolve as resolvePath } from 'node:path';
import { send, type TestResponse } from './http.js';
import type { Upstream } from './upstream.js';
import { ADMIN_PASSWORD } from './gateway.js';

export interface ShellCommand {
  /** 1-based line in the document where the command starts. */
  line: number;
  text: string;
  /** The trailing `# comment`, if any. */
  comment: string;
}

export interface ShellWorld {
  /** Documented origin → real origin (`http://localhost:8080` → the test proxy). */
  origins: Record<string, string>;
  /** Upstream origins as documented (`http://127.0.0.1:3000`) → the test upstream that stands in. */
  upstreams: Record<string, Upstream>;
  /** Values for `paste-the-<what>-here` placeholders that the output does not show (the admin password). */
  pastes: Record<string, string>;
  vars: Map<string, string>;
  /** Where `openssl`, `node`… run; `cd` moves it. Required by documents that use them. */
  cwd?: string;
  /** Commands the test performs itself in place of running them (a server started in the background). */
  standIns?: Record<string, () => Promise<void>>;
  /** Names given by `export`: the environment of the commands run in bash. */
  exported?: Set<string>;
}

/** Commands run for real in bash rather than interpreted. */
const SHELL_COMMANDS: ReadonlySet<string> = new Set(['openssl', 'node', 'mkdir', 'printf']);

/** Run `text` in bash in the world's directory; resolves with its stdout, rejects unless it exits 0. */
function runInShell(text: string, world: ShellWorld): Promise<string> {
  const cwd = world.cwd;
  if (cwd === undefined) throw new Error('this command runs in a shell: the test must give the world a cwd');
  const env: NodeJS.ProcessEnv = { ...process.env, PWD: cwd };
  for (const name of world.exported ?? []) env[name] = world.vars.get(name);
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', text], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`exit ${code}\n${stderr}`))));
  });
}

/**
 * The world every README walkthrough runs in: the documented proxy (`localhost:8080`) and admin
 * (`127.0.0.1:9080`) origins are the test gateway's, the documented upstream (`127.0.0.1:3000`) is
 * `upstream`, and the admin password is what the start-up output shows. `upstreams` adds stand-ins;
 * `vars` seeds shell variables the section expects from an earlier one.
 */
export function readmeWorld(
  gw: { proxyUrl: string; adminUrl: string },
  upstream: Upstream,
  extra: { upstreams?: Record<string, Upstream>; vars?: Map<string, string> } = {},
): ShellWorld {
  return {
    origins: { 'http://localhost:8080': gw.proxyUrl, 'http://127.0.0.1:9080': gw.adminUrl },
    upstreams: { 'http://127.0.0.1:3000': upstream, ...extra.upstreams },
    pastes: { password: ADMIN_PASSWORD },
    vars: extra.vars ?? new Map(),
  };
}

/** The commands of the `sh` blocks between the headings `from` (included) and `until` (excluded). */
export function shellCommands(markdown: string, range: { from?: string; until?: string } = {}): ShellCommand[] {
  const lines = markdown.split('\n');
  const headingAt = (title: string) => {
    const index = lines.findIndex((l) => /^#{1,6} /.test(l) && l.replace(/^#+ /, '').startsWith(title));
    if (index === -1) throw new Error(`no heading "${title}" in the document`);
    return index;
  };
  const start = range.from ? headingAt(range.from) : 0;
  const end = range.until ? headingAt(range.until) : lines.length;
  const commands: ShellCommand[] = [];
  let block: { line: number; text: string[] } | null = null;
  for (let i = start; i < end; i++) {
    const line = lines[i]!;
    if (block === null) {
      if (/^```(sh|bash|shell)\s*$/.test(line)) block = { line: i + 2, text: [] };
    } else if (line.startsWith('```')) {
      commands.push(...splitCommands(block.text.join('\n'), block.line));
      block = null;
    } else block.text.push(line);
  }
  return commands;
}

/** Split a block into commands: line continuations and multi-line quotes joined, comments kept apart. */
function splitCommands(block: string, firstLine: number): ShellCommand[] {
  const commands: ShellCommand[] = [];
  let text = '';
  let comment = '';
  let line = firstLine;
  let startLine = firstLine;
  let quote: '"' | "'" | null = null;
  let depth = 0;
  const flush = () => {
    const trimmed = text.trim().replace(/&$/, '').trim();
    if (trimmed) commands.push({ line: startLine, text: trimmed, comment: comment.trim() });
    text = '';
    comment = '';
  };
  for (let i = 0; i < block.length; i++) {
    const c = block[i]!;
    if (c === '\n') line++;
    if (quote === "'") {
      if (c === "'") quote = null;
      text += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = null;
      text += c;
      continue;
    }
    if (c === '\\' && block[i + 1] === '\n') {
      i++;
      line++;
      text += ' ';
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      text += c;
      continue;
    }
    if (c === '$' && block[i + 1] === '(') {
      depth++;
      text += '$(';
      i++;
      continue;
    }
    if (c === ')' && depth > 0) {
      depth--;
      text += c;
      continue;
    }
    if (c === '#' && depth === 0 && (text === '' || /\s$/.test(text))) {
      const newline = block.indexOf('\n', i);
      comment = block.slice(i + 1, newline === -1 ? block.length : newline);
      i = (newline === -1 ? block.length : newline) - 1;
      continue;
    }
    if (c === '\n' && depth === 0) {
      flush();
      startLine = line;
      continue;
    }
    if (text === '' && /\s/.test(c)) {
      startLine = line;
      continue;
    }
    text += c;
  }
  flush();
  return commands;
}

type Part = { lit: string } | { var: string } | { subst: string };
type Token = Part[] | '|';

/** Shell words: quotes removed, `$VAR`/`${VAR}` and `$(…)` kept as parts to evaluate; `|` apart. */
function tokenize(command: string): Token[] {
  const tokens: Token[] = [];
  let word: Part[] | null = null;
  const lit = (s: string) => {
    word ??= [];
    const last = word[word.length - 1];
    if (last && 'lit' in last) last.lit += s;
    else word.push({ lit: s });
  };
  const end = () => {
    if (word) tokens.push(word);
    word = null;
  };
  let i = 0;
  const readVar = (): Part => {
    if (command[i + 1] === '{') {
      const close = command.indexOf('}', i);
      const name = command.slice(i + 2, close);
      i = close + 1;
      return { var: name };
    }
    const name = /^[A-Za-z_]\w*/.exec(command.slice(i + 1))![0];
    i += 1 + name.length;
    return { var: name };
  };
  const readSubst = (): Part => {
    let depth = 1;
    let j = i + 2;
    let quote: string | null = null;
    for (; j < command.length && depth > 0; j++) {
      const c = command[j]!;
      if (quote) {
        if (c === quote) quote = null;
        continue;
      }
      if (c === "'" || c === '"') quote = c;
      else if (c === '(') depth++;
      else if (c === ')') depth--;
    }
    const inner = command.slice(i + 2, j - 1);
    i = j;
    return { subst: inner };
  };
  while (i < command.length) {
    const c = command[i]!;
    if (/\s/.test(c)) {
      end();
      i++;
      continue;
    }
    if (c === '|') {
      end();
      tokens.push('|');
      i++;
      continue;
    }
    if (c === "'") {
      const close = command.indexOf("'", i + 1);
      lit(command.slice(i + 1, close));
      i = close + 1;
      continue;
    }
    if (c === '"') {
      i++;
      while (command[i] !== '"') {
        if (command[i] === '$' && command[i + 1] === '(') {
          word ??= [];
          word.push(readSubst());
          continue;
        }
        if (command[i] === '$' && /[A-Za-z_{]/.test(command[i + 1] ?? '')) {
          word ??= [];
          word.push(readVar());
          continue;
        }
        if (command[i] === '\\' && '"$\\`'.includes(command[i + 1] ?? '')) i++;
        lit(command[i]!);
        i++;
      }
      word ??= [];
      i++;
      continue;
    }
    if (c === '$' && command[i + 1] === '(') {
      word ??= [];
      word.push(readSubst());
      continue;
    }
    if (c === '$' && /[A-Za-z_{]/.test(command[i + 1] ?? '')) {
      word ??= [];
      word.push(readVar());
      continue;
    }
    lit(c);
    i++;
  }
  end();
  return tokens;
}

interface Answer {
  status: number;
  head: string;
  response: TestResponse;
}

/** Run every command in order; returns how many requests were sent. */
export async function runShellCommands(commands: readonly ShellCommand[], world: ShellWorld): Promise<number> {
  const state = { requests: 0, lastJson: null as unknown };
  for (const command of commands) {
    const where = `line ${command.line}: ${command.text.slice(0, 120)}`;
    try {
      await runCommand(command, world, state);
    } catch (error) {
      (error as Error).message = `${where}\n${(error as Error).message}`;
      throw error;
    }
  }
  return state.requests;
}

async function runCommand(
  command: ShellCommand,
  world: ShellWorld,
  state: { requests: number; lastJson: unknown },
): Promise<void> {
  const tokens = tokenize(command.text);
  const first = tokens[0];
  if (first === undefined || first === '|') throw new Error('empty command');
  const head = first.length === 1 && 'lit' in first[0]! ? first[0].lit : null;
  if (head === 'npm') return;
  const standIn = world.standIns?.[command.text];
  if (standIn) return standIn();
  if (head === 'cd') {
    if (world.cwd === undefined || tokens.length !== 2)
      throw new Error('cd needs one directory and a world with a cwd');
    world.cwd = resolvePath(world.cwd, await evaluate(tokens[1] as Part[], world, state));
    world.vars.set('PWD', world.cwd);
    return;
  }
  if (head !== null && SHELL_COMMANDS.has(head)) {
    await runInShell(command.text, world);
    return;
  }
  if (head === 'python3' && command.text.includes('-m http.server')) {
    const port = /http\.server (\d+)/.exec(command.text)?.[1];
    assert.ok(
      Object.keys(world.upstreams).some((origin) => origin.endsWith(`:${port}`)),
      `no test upstream stands in for port ${port}`,
    );
    return;
  }
  const assignments = head === 'export' ? tokens.slice(1) : tokens;
  const firstPart = (assignments[0] as Part[] | undefined)?.[0];
  if (firstPart && 'lit' in firstPart && /^[A-Za-z_]\w*=/.test(firstPart.lit)) {
    for (const token of assignments) {
      if (token === '|') throw new Error('unsupported pipe in an assignment');
      const [lead, ...rest] = token;
      const eq = (lead as { lit: string }).lit.indexOf('=');
      const name = (lead as { lit: string }).lit.slice(0, eq);
      let value = await evaluate([{ lit: (lead as { lit: string }).lit.slice(eq + 1) }, ...rest], world, state);
      const paste = /^paste-the-(\w+)-here$/.exec(value);
      if (paste) value = world.pastes[paste[1]!] ?? fieldOf(state.lastJson, paste[1]!);
      world.vars.set(name, value);
      if (head === 'export') (world.exported ??= new Set()).add(name);
    }
    return;
  }
  await runPipeline(tokens, world, state, command.comment);
}

async function evaluate(
  word: Part[],
  world: ShellWorld,
  state: { requests: number; lastJson: unknown },
): Promise<string> {
  let out = '';
  for (const part of word) {
    if ('lit' in part) out += part.lit;
    else if ('var' in part) {
      const value = world.vars.get(part.var);
      if (value === undefined) throw new Error(`$${part.var} is not set`);
      out += value;
    } else if (SHELL_COMMANDS.has(/^\s*(\S+)/.exec(part.subst)?.[1] ?? '')) {
      out += (await runInShell(part.subst, world)).replace(/\n+$/, '');
    } else out += await runPipeline(tokenize(part.subst), world, state, '');
  }
  return out;
}

/** Run `curl … [| python3 -c … | grep …]`; returns what the pipeline prints. */
async function runPipeline(
  tokens: Token[],
  world: ShellWorld,
  state: { requests: number; lastJson: unknown },
  comment: string,
): Promise<string> {
  const stages: Part[][][] = [[]];
  for (const token of tokens) {
    if (token === '|') stages.push([]);
    else stages[stages.length - 1]!.push(token);
  }
  const [curlStage, ...filters] = stages;
  const words: string[] = [];
  for (const word of curlStage!) words.push(await evaluate(word, world, state));
  if (words[0] !== 'curl') throw new Error(`unsupported command "${words[0]}": teach test/helpers/markdown-shell.ts`);
  const received = Object.values(world.upstreams).map((u) => u.received.length);
  const answer = await curl(words.slice(1), world);
  state.requests++;
  try {
    state.lastJson = answer.response.json();
  } catch {
    state.lastJson = null;
  }
  let output = `${answer.head}\n${answer.response.text}`;
  for (const filter of filters) {
    const argv: string[] = [];
    for (const word of filter) argv.push(await evaluate(word, world, state));
    if (argv[0] === 'python3' && argv[1] === '-c') {
      const field = /\["(\w+)"\]/.exec(argv[2] ?? '')?.[1];
      if (!field) throw new Error(`unsupported python snippet: ${argv[2]}`);
      output = fieldOf(state.lastJson, field, answer);
    } else if (argv[0] === 'grep') {
      const needle = argv[argv.length - 1]!;
      const insensitive = argv.includes('-i');
      const lines = output
        .split('\n')
        .filter((l) => (insensitive ? l.toLowerCase().includes(needle.toLowerCase()) : l.includes(needle)));
      assert.ok(lines.length > 0, `grep ${needle} finds nothing in:\n${output}`);
      output = lines.join('\n');
    } else throw new Error(`unsupported filter "${argv[0]}"`);
  }
  if (filters.length === 0) checkExpectation(comment, answer, world, received);
  return output;
}

function fieldOf(json: unknown, field: string, answer?: Answer): string {
  const value = (json as Record<string, unknown> | null)?.[field];
  if (typeof value !== 'string')
    throw new Error(
      `the previous answer has no "${field}"${answer ? `: ${answer.status} ${answer.response.text}` : ''}`,
    );
  return value;
}

async function curl(args: string[], world: ShellWorld): Promise<Answer> {
  const headers: Record<string, string> = {};
  const data: string[] = [];
  const form: Array<[string, string]> = [];
  let method: string | null = null;
  let url: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = () => {
      const value = args[++i];
      if (value === undefined) throw new Error(`${arg} needs a value`);
      return mapOrigins(value, world);
    };
    if (/^-[siSv]+$/.test(arg) || arg === '--silent' || arg === '--include') continue;
    else if (arg === '-u' || arg === '--user')
      headers.authorization = `Basic ${Buffer.from(next()).toString('base64')}`;
    else if (arg === '-H' || arg === '--header') {
      const h = next();
      const colon = h.indexOf(':');
      headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
    } else if (arg === '-X' || arg === '--request') method = next();
    else if (arg === '-d' || arg === '--data') data.push(next());
    else if (arg === '-F' || arg === '--form') {
      const f = next();
      const eq = f.indexOf('=');
      form.push([f.slice(0, eq), f.slice(eq + 1)]);
    } else if (arg.startsWith('-'))
      throw new Error(`unsupported curl option ${arg}: teach test/helpers/markdown-shell.ts`);
    else url = arg;
  }
  if (!url) throw new Error('curl without a URL');
  const origin = Object.keys(world.origins).find((o) => url!.startsWith(o + '/') || url === o);
  if (!origin) throw new Error(`no test server stands in for ${url}`);
  headers.host ??= new URL(origin).host;
  let body: string | Buffer | undefined;
  if (form.length > 0) {
    const boundary = `----markdown-shell-${randomBytes(8).toString('hex')}`;
    body =
      form
        .map(([name, value]) => `--${boundary}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`)
        .join('') + `--${boundary}--\r\n`;
    headers['content-type'] ??= `multipart/form-data; boundary=${boundary}`;
  } else if (data.length > 0) {
    body = data.join('&');
    headers['content-type'] ??= 'application/x-www-form-urlencoded';
  }
  const response = await send(world.origins[origin] + url.slice(origin.length), {
    method: method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    body,
  });
  const head = [
    `HTTP/1.1 ${response.status}`,
    ...Object.entries(response.headers).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`),
  ].join('\n');
  return { status: response.status, head, response };
}

/** Documented upstream origins inside bodies and headers become the test upstreams'. */
function mapOrigins(value: string, world: ShellWorld): string {
  let out = value;
  for (const [documented, upstream] of Object.entries(world.upstreams)) out = out.split(documented).join(upstream.url);
  return out;
}

function checkExpectation(comment: string, answer: Answer, world: ShellWorld, receivedBefore: readonly number[]): void {
  const context = `${answer.status} ${answer.response.text.slice(0, 300)}`;
  const status = /^\s*(\d{3})\b/.exec(comment)?.[1];
  const forwarded = /the upstream receives ([A-Z]+) (\S+)/.exec(comment) ?? /proxied to (https?:\/\/\S+)/.exec(comment);
  if (status) assert.equal(answer.status, Number(status), `expected ${status}: ${context}`);
  else if (!forwarded) assert.ok(answer.status < 400, `expected a success: ${context}`);
  if (forwarded) {
    const reached = Object.values(world.upstreams).filter((u, i) => u.received.length > receivedBefore[i]!);
    assert.equal(reached.length, 1, `the request reached no upstream: ${context}`);
    const last = reached[0]!.received[reached[0]!.received.length - 1]!;
    if (forwarded.length === 3) {
      assert.equal(last.method, forwarded[1]);
      assert.equal(last.url, forwarded[2]);
    } else {
      const documented = Object.keys(world.upstreams).find((o) => forwarded[1]!.startsWith(o));
      assert.ok(documented, `no test upstream stands in for ${forwarded[1]}`);
      assert.equal(last.url, forwarded[1]!.slice(documented.length) || '/');
    }
  }
  if (status && Number(status) >= 400) {
    const code =
      /^\s*\d{3}[,:]?\s+([a-z][a-z_]*)\b/.exec(comment)?.[1] ?? /\b([a-z]+(?:_[a-z]+)+)\b/.exec(comment)?.[1];
    if (code) assert.equal(answer.response.json().error, code, context);
  }
  const challenge = String(answer.response.headers['www-authenticate'] ?? '');
  for (const [, name, value] of comment.matchAll(/\b([a-z_]+)="([^"]*)"/g))
    assert.ok(challenge.includes(`${name}="${value}"`), `WWW-Authenticate lacks ${name}="${value}": ${challenge}`);
  for (const [, name, prefix] of comment.matchAll(/\b([A-Z][A-Za-z]*(?:-[A-Za-z]+)+): (\S+)/g)) {
    assert.ok(
      String(answer.response.headers[name!.toLowerCase()] ?? '').startsWith(prefix!),
      `${name} does not start with ${prefix}: ${context}`,
    );
  }
  if (/\bno error code\b/.test(comment)) assert.doesNotMatch(challenge, /error=/);
}
