import { parseArgs } from "node:util";
import type { CommandDef, Io } from "./command.ts";
import { COMMANDS } from "./commands/index.ts";
import { EXIT, UsageError } from "./exit.ts";
import { Invocation } from "./invocation.ts";

const TAGLINE = "effnet: compile compound-scaled ConvNet specs (.effnet) into audited TensorFlow.js models";

function wantsColor(stream: NodeJS.WriteStream): boolean {
  if (process.env.NO_COLOR) return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== "0") return true;
  return Boolean(stream.isTTY);
}

export function defaultIo(): Io {
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    color: wantsColor(process.stderr),
    interactive: Boolean(process.stderr.isTTY),
    ...(process.stdout.isTTY && process.stdout.columns ? { columns: process.stdout.columns } : {}),
  };
}

function generalHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    TAGLINE,
    "",
    "Usage: effnet COMMAND [options]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Options:",
    "  -h, --help     show help (also `effnet COMMAND --help`)",
    "  --version      print the version",
    "",
    "Exit status: 0 clean (warnings allowed), 1 errors in the input, 2 a wrong command line.",
    "Colour: on for terminals; NO_COLOR=1 turns it off, FORCE_COLOR=1 on.",
    "",
  ].join("\n");
}

function commandHelp(c: CommandDef): string {
  const rows = Object.entries(c.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : "    "}--${name}${o.type === "string" ? ` ${o.value ?? "VALUE"}` : ""}`;
    return [flag, o.description] as const;
  });
  rows.push(["-h, --help", "show this help"]);
  const width = Math.max(...rows.map(([f]) => f.length));
  return [
    `effnet ${c.name}: ${c.summary}`,
    "",
    `Usage: ${c.usage}`,
    ...(c.details ? ["", c.details] : []),
    "",
    "Options:",
    ...rows.map(([f, d]) => `  ${f.padEnd(width)}  ${d}`),
    ...(c.examples?.length ? ["", "Examples:", ...c.examples.map((e) => `  ${e}`)] : []),
    "",
  ].join("\n");
}

async function version(): Promise<string> {
  const { readFileSync } = await import("node:fs");
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

/** "unknown option `--varient`; did you mean `--variant`?" (node's message quotes the option: Unknown option '--varient'). */
async function unknownOption(e: Error, command: CommandDef): Promise<string> {
  const typed = /'(-[^']*)'/.exec(e.message)?.[1];
  if (!typed) return e.message;
  const { didYouMean } = await import("../diagnostics/suggest.ts");
  const hint = typed.startsWith("--")
    ? didYouMean(typed, ["--help", ...Object.keys(command.options).map((o) => `--${o}`)])
    : undefined;
  return `unknown option \`${typed}\`${hint ? `; ${hint}` : ""}`;
}

/** A wrong command line outside any command: one line and the pointer to the help, exit 2. */
function usageFailure(io: Io, message: string): number {
  io.err(`effnet: ${message}\nRun \`effnet --help\` for the list of commands.\n`);
  return EXIT.usage;
}

async function unknownCommand(io: Io, name: string): Promise<number> {
  const { didYouMean } = await import("../diagnostics/suggest.ts");
  const family = COMMANDS.filter((c) => c.name.startsWith(`${name} `)).map((c) => `\`${c.name}\``);
  const hint = family.length
    ? `its commands are ${family.join(", ")}`
    : didYouMean(
        name,
        COMMANDS.map((c) => c.name),
      );
  return usageFailure(io, `unknown command \`${name}\`${hint ? `; ${hint}` : ""}`);
}

/** A command's contradictory and dependent options (CommandDef.conflicts, .needs) as usage errors. */
function checkOptionRules(command: CommandDef, values: Record<string, unknown>): void {
  const given = (name: string) => values[name] !== undefined && values[name] !== false;
  for (const [a, b] of command.conflicts ?? [])
    if (given(a) && given(b)) throw new UsageError(`--${a} and --${b} contradict each other: give one of them`);
  for (const [option, need] of Object.entries(command.needs ?? {})) {
    const [other, value] = need.split("=");
    const met = value === undefined ? given(other) : values[other] === value;
    if (given(option) && !met)
      throw new UsageError(`--${option} only applies with --${other}${value === undefined ? "" : ` ${value}`}`);
  }
}

/**
 * The CLI's edge: every error a user can cause becomes a diagnostic or a usage message
 * and an exit code; anything else is a bug in effnet, reported in one line (the stack
 * only with EFFNET_DEBUG=1) rather than a trace, and never with the wasm glue dumped.
 */
export async function main(argv: readonly string[], io: Io = defaultIo()): Promise<number> {
  // A command's name may be two words (`weights import`): the longest name that matches wins.
  const twoWords = COMMANDS.some((c) => c.name === `${argv[0]} ${argv[1]}`);
  const [first, ...rest] = twoWords ? [`${argv[0]} ${argv[1]}`, ...argv.slice(2)] : argv;
  if (first === undefined || first === "-h" || first === "--help" || first === "help") {
    // `effnet help COMMAND` (or --help COMMAND): that command's help; anything else after it is a usage error.
    const topicName = COMMANDS.some((c) => c.name === `${rest[0]} ${rest[1]}`) ? `${rest[0]} ${rest[1]}` : rest[0];
    const topic = COMMANDS.find((c) => c.name === topicName);
    const extra = rest.slice(topic ? topic.name.split(" ").length : 0);
    const family = topic ? [] : COMMANDS.filter((c) => extra.length === 1 && c.name.startsWith(`${extra[0]} `));
    if (family.length > 0) {
      // `effnet help weights`: the help of each of its commands.
      for (const c of family) io.out(commandHelp(await c.load()) + "\n");
      return EXIT.ok;
    }
    if (extra.length > 0) {
      if (topic) return usageFailure(io, `\`effnet help ${topic.name}\` takes nothing more: ${extra.join(" ")}`);
      return unknownCommand(io, extra[0]);
    }
    // No command at all is a usage error: the help goes to stderr with exit 2, as every usage error does.
    if (first === undefined) io.err(generalHelp());
    else io.out(topic ? commandHelp(await topic.load()) : generalHelp());
    return first === undefined ? EXIT.usage : EXIT.ok;
  }
  if (first === "--version") {
    if (rest.length > 0) return usageFailure(io, `--version takes nothing more: ${rest.join(" ")}`);
    io.out(`effnet ${await version()}\n`);
    return EXIT.ok;
  }
  const entry = COMMANDS.find((c) => c.name === first);
  if (!entry) return unknownCommand(io, first);
  const command = await entry.load();
  try {
    const parsed = parseArgs({
      args: [...rest],
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: "boolean", short: "h" },
        ...Object.fromEntries(
          Object.entries(command.options).map(([name, o]) => [
            name,
            { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) },
          ]),
        ),
      },
    });
    if (parsed.values.help) {
      io.out(commandHelp(command));
      return EXIT.ok;
    }
    checkOptionRules(command, parsed.values as Record<string, unknown>);
    const { min, max } = command.positionals;
    if (parsed.positionals.length < min || parsed.positionals.length > max) {
      throw new UsageError(
        parsed.positionals.length < min
          ? "missing FILE argument"
          : `too many arguments: ${parsed.positionals.slice(max).join(" ")}`,
      );
    }
    return await command.run(
      new Invocation(parsed.positionals, parsed.values as Record<string, string | boolean | string[] | undefined>, io),
    );
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "";
    if (e instanceof UsageError || code.startsWith("ERR_PARSE_ARGS")) {
      io.err(
        `effnet ${command.name}: ${code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" ? await unknownOption(e as Error, command) : (e as Error).message}\nUsage: ${command.usage}\nRun \`effnet ${command.name} --help\` for details.\n`,
      );
      return EXIT.usage;
    }
    if (typeof (e as { userMessage?: unknown }).userMessage === "string") {
      const { userMessage, code } = e as { userMessage: string; code?: string };
      io.err(`effnet ${command.name}: ${code ? `error[${code}]: ` : ""}${userMessage}\n`);
      return EXIT.errors;
    }
    io.err(
      `effnet ${command.name}: internal error: ${(e as Error)?.message ?? String(e)}\nThis is a bug in effnet; please report it with the spec and command that caused it.${process.env.EFFNET_DEBUG ? `\n${(e as Error)?.stack}` : " (EFFNET_DEBUG=1 shows the stack.)"}\n`,
    );
    return EXIT.internal;
  }
}
