import { UsageError } from "./exit.ts";

/**
 * What a command runs with: its arguments, its options as parsed, and where it prints; and
 * the one reader of each kind of option, so that every command reads and checks its options
 * the same way (a wrong value is a usage error naming the option, exit 2). Apart from
 * src/cli/command.ts because src/cli/main.ts builds it without loading the compiler.
 */
export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly color: boolean;
  /** Whether stderr is a terminal, for progress lines that redraw themselves. */
  readonly interactive: boolean;
  /** stdout's width in columns when it is a terminal; absent for pipes and files. */
  readonly columns?: number;
}

/** What a numeric option may be: its test and the words the usage error uses. */
export interface NumberRule {
  readonly what: string;
  readonly ok: (x: number) => boolean;
}

/** The kinds of number options take, one entry each. */
export const NUMBER_RULES = {
  whole: (min = 1): NumberRule => ({ what: `a whole number ≥ ${min}`, ok: (x) => Number.isInteger(x) && x >= min }),
  positive: { what: "a positive number", ok: (x) => Number.isFinite(x) && x > 0 } as NumberRule,
  nonNegative: { what: "a number ≥ 0", ok: (x) => Number.isFinite(x) && x >= 0 } as NumberRule,
  fraction: { what: "a fraction between 0 and 1, e.g. 0.2", ok: (x) => x > 0 && x < 1 } as NumberRule,
};

/** `value` if it is one of `choices`, else a usage error naming option `--name` and the choices. */
export function checkChoice<T extends string>(name: string, value: string, choices: readonly T[]): T {
  if (!choices.includes(value as T))
    throw new UsageError(`--${name} must be one of ${choices.join(", ")}, not \`${value}\``);
  return value as T;
}

export class Invocation {
  constructor(
    readonly positionals: readonly string[],
    readonly options: Readonly<Record<string, string | boolean | string[] | undefined>>,
    readonly io: Io,
  ) {}

  /** A string option's value, or undefined when it is absent. */
  string(name: string): string | undefined {
    const v = this.options[name];
    return typeof v === "string" ? v : undefined;
  }

  /** A repeatable option's values, each comma-separated list split: `--variant B0,B1 --variant B2`. */
  list(name: string): string[] {
    const v = this.options[name];
    if (v === undefined || typeof v === "boolean") return [];
    return (Array.isArray(v) ? v : [v])
      .flatMap((s) => s.split(","))
      .map((s) => s.trim())
      .filter(Boolean);
  }

  /** One of `choices` (`fallback` when the option is absent), checked by checkChoice. */
  choice<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    return checkChoice(name, this.string(name) ?? fallback, choices);
  }

  /** A number that passes `rule` (`fallback` when the option is absent), or a usage error naming the option. */
  number(name: string, fallback: number, rule: NumberRule): number {
    const text = this.string(name);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (text.trim() === "" || !rule.ok(value)) throw new UsageError(`--${name} must be ${rule.what}, not \`${text}\``);
    return value;
  }

  /** A whole number ≥ min (`fallback` when the option is absent). */
  integer(name: string, fallback: number, min = 1): number {
    return this.number(name, fallback, NUMBER_RULES.whole(min));
  }

  /** What FILE... compiles to under the common --variant and --allow-huge options (VARIANT_OPTIONS). */
  compileOptions(): { variants: string[]; allowHuge: boolean } {
    return { variants: this.list("variant"), allowHuge: this.options["allow-huge"] === true };
  }
}
