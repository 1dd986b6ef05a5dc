/**
 * The command line, declared once: each command with its summary, arguments and options. The same
 * table parses `process.argv`, prints `--help` (whole or per command) and refuses what it does not
 * know: an unknown command or flag ends with exit 2 and the usage, never a gateway started anyway.
 */
import { readFileSync } from 'node:fs';

export interface OptionSpec {
  /** `--name`; `value` names its argument when it takes one (`--config <file>` or `--config=<file>`). */
  readonly name: string;
  readonly value?: string;
  readonly description: string;
}

export interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  /** Positional arguments, in order; `optional` ones may be left out. */
  readonly args: ReadonlyArray<{ readonly name: string; readonly optional?: boolean }>;
  readonly options: readonly OptionSpec[];
  /** Lines after the usage in `portcullis <command> --help`. */
  readonly details: readonly string[];
}

const CONFIG: OptionSpec = {
  name: 'config',
  value: 'file',
  description: 'the boot configuration file (default: ./config.json when present)',
};

export const CLI_COMMANDS: readonly CommandSpec[] = [
  {
    name: 'start',
    summary: 'start the gateway (the default command)',
    args: [],
    options: [CONFIG],
    details: [
      'Prints where it listens and, on the first start, the generated admin password.',
      'Settings come from the configuration file, then PORTCULLIS_* environment variables.',
      'SIGTERM or SIGINT stops it after the in-flight requests.',
    ],
  },
  {
    name: 'check',
    summary: 'check the configuration file and environment without starting',
    args: [],
    options: [CONFIG],
    details: ['Exit 0 and a summary of the effective settings, or exit 2 and the first problem.'],
  },
  {
    name: 'export',
    summary: 'write the whole configuration as JSON to standard output',
    args: [],
    options: [
      CONFIG,
      { name: 'include-private-keys', description: "include the key pairs' private keys (keep the file secret)" },
    ],
    details: ['The same document as GET /api/export; the gateway may be running.'],
  },
  {
    name: 'import',
    summary: 'replace the stored configuration by an export',
    args: [{ name: 'export.json' }],
    options: [CONFIG],
    details: ['Refused while a gateway holds the data file: import through its admin API instead (POST /api/import).'],
  },
  {
    name: 'admin-password',
    summary: "set a new admin password on a stopped gateway's store",
    args: [],
    options: [CONFIG],
    details: [
      'The password comes from PORTCULLIS_ADMIN_PASSWORD, else the first line of standard input,',
      'else one is generated and printed once. Only its scrypt hash is stored.',
      'Refused (exit 2) while a gateway holds the data file.',
    ],
  },
];

const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  { name: 'help', description: "print this help (or a command's: portcullis <command> --help)" },
  { name: 'version', description: 'print the version' },
];

export type ParsedCommandLine =
  | { kind: 'help'; command: CommandSpec | null }
  | { kind: 'version' }
  | { kind: 'run'; command: CommandSpec; args: string[]; options: Map<string, string | true> };

/** A mistake on the command line: printed with the usage, exit 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command: CommandSpec | null,
  ) {
    super(message);
  }
}

export function findCommand(name: string): CommandSpec | undefined {
  return CLI_COMMANDS.find((c) => c.name === name);
}

/** Parse `argv` (without node and the script): the command, its arguments and options. */
export function parseCommandLine(argv: readonly string[]): ParsedCommandLine {
  const first = argv[0];
  if (first === '--version' || first === '-V') return { kind: 'version' };
  if (first === '--help' || first === '-h') return { kind: 'help', command: null };
  if (first === 'help') return { kind: 'help', command: argv[1] === undefined ? null : commandNamed(argv[1]) };
  const explicit = first !== undefined && !first.startsWith('-');
  const command = explicit ? commandNamed(first) : findCommand('start')!;
  const rest = explicit ? argv.slice(1) : argv;
  if (rest.includes('--help') || rest.includes('-h')) return { kind: 'help', command };
  return { kind: 'run', command, ...parseRest(command, rest) };
}

function commandNamed(name: string): CommandSpec {
  const command = findCommand(name);
  if (!command) throw new UsageError(`unknown command "${name}"`, null);
  return command;
}

function parseRest(
  command: CommandSpec,
  rest: readonly string[],
): { args: string[]; options: Map<string, string | true> } {
  const args: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i]!;
    if (!word.startsWith('-') || word === '-') {
      if (args.length >= command.args.length) throw new UsageError(`unexpected argument "${word}"`, command);
      args.push(word);
      continue;
    }
    const [flag, inline] = splitFlag(word);
    const spec = command.options.find((o) => `--${o.name}` === flag);
    if (!spec) throw new UsageError(`unknown option "${flag}" for ${command.name}`, command);
    if (options.has(spec.name)) throw new UsageError(`--${spec.name} given twice`, command);
    if (spec.value === undefined) {
      if (inline !== undefined) throw new UsageError(`--${spec.name} takes no value`, command);
      options.set(spec.name, true);
      continue;
    }
    const value = inline ?? rest[++i];
    if (value === undefined || value === '') throw new UsageError(`--${spec.name} needs a ${spec.value}`, command);
    options.set(spec.name, value);
  }
  const missing = command.args.slice(args.length).find((a) => !a.optional);
  if (missing) throw new UsageError(`missing argument <${missing.name}>`, command);
  return { args, options };
}

function splitFlag(word: string): [string, string | undefined] {
  const eq = word.indexOf('=');
  return eq === -1 ? [word, undefined] : [word.slice(0, eq), word.slice(eq + 1)];
}

/** `portcullis import <export.json> [--config <file>]` */
export function usageLine(command: CommandSpec): string {
  const args = command.args.map((a) => (a.optional ? `[<${a.name}>]` : `<${a.name}>`));
  const options = command.options.map((o) => `[--${o.name}${o.value ? ` <${o.value}>` : ''}]`);
  return ['portcullis', command.name, ...args, ...options].join(' ');
}

/** The whole help, or one command's. */
export function helpText(command: CommandSpec | null): string {
  if (command) {
    return [
      `Usage: ${usageLine(command)}`,
      '',
      `${capitalized(command.summary)}.`,
      ...command.details,
      '',
      'Options:',
      ...optionLines([...command.options, GLOBAL_OPTIONS[0]!]),
      '',
    ].join('\n');
  }
  const width = Math.max(...CLI_COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'Usage: portcullis [command] [options]',
    '',
    'Portcullis, an API gateway for securing HTTP services with API keys and OAuth2.',
    '',
    'Commands:',
    ...CLI_COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Options:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    'Run "portcullis <command> --help" for a command\'s options. Documentation: docs/ in the repository.',
    '',
  ].join('\n');
}

function optionLines(options: readonly OptionSpec[]): string[] {
  const labels = options.map((o) => `--${o.name}${o.value ? ` <${o.value}>` : ''}`);
  const width = Math.max(...labels.map((l) => l.length)) + 2;
  return options.map((o, i) => `  ${labels[i]!.padEnd(width)}${o.description}`);
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The installed package's version (package.json sits two folders above dist/bin/). */
export function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version?: unknown;
  };
  return typeof manifest.version === 'string' ? manifest.version : 'unknown';
}
