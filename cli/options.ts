// A verb's options declared once: the same table feeds node:util's parseArgs and the verb's
// `--help`, so an option cannot be accepted without being listed there with its default.
import { parseArgs } from 'node:util';

export interface OptionSpec {
  type: 'string' | 'boolean';
  description: string;
  /** The value's name in the help, e.g. DIR; strings only. */
  value?: string;
  default?: string | boolean;
  /** Said in the help instead of `default` when the default is computed when the verb runs. */
  shownDefault?: string;
  /**
   * An environment variable that stands in for an absent option. Read when the verb runs, and
   * shown in the help by name only: its value may be a token.
   */
  environment?: string;
  /** The verb refuses to run without it; the verb itself says why. */
  required?: boolean;
  /** May be given several times (`--key A --key B`). */
  multiple?: boolean;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

type ValueOf<Spec extends OptionSpec> = Spec['type'] extends 'boolean' ? boolean : Spec['multiple'] extends true ? string[] : string;

/** An option with a default always has a value; any other may be absent. */
export type OptionValues<Specs extends OptionSpecs> = {
  [Name in keyof Specs]: Specs[Name] extends { default: string | boolean } ? ValueOf<Specs[Name]> : ValueOf<Specs[Name]> | undefined;
};

export function parseOptions<Specs extends OptionSpecs>(
  specs: Specs,
  argv: string[],
  { positionals = false } = {},
): { values: OptionValues<Specs>; positionals: string[] } {
  const options = Object.fromEntries(
    Object.entries(specs).map(([name, spec]) => {
      const fallback = spec.environment === undefined ? spec.default : (process.env[spec.environment] ?? spec.default);
      // parseArgs validates every key it is given, so absent ones must be left out, not undefined.
      return [
        name,
        {
          type: spec.type,
          ...(spec.multiple ? { multiple: true } : {}),
          ...(fallback === undefined ? {} : { default: fallback }),
        },
      ];
    }),
  );
  const parsed = parseArgs({ args: argv, options, allowPositionals: positionals, strict: true });
  return { values: { ...parsed.values } as OptionValues<Specs>, positionals: parsed.positionals };
}

function defaultText(spec: OptionSpec): string {
  const parts: string[] = [];
  if (spec.required) parts.push('required');
  if (spec.environment) parts.push(`default: $${spec.environment}${spec.default === undefined ? '' : `, else ${spec.default}`}`);
  else if (spec.shownDefault !== undefined) parts.push(`default: ${spec.shownDefault}`);
  else if (spec.type === 'boolean') parts.push(`default: ${spec.default === true ? 'on' : 'off'}`);
  else if (spec.default !== undefined) parts.push(`default: ${spec.default}`);
  else if (!spec.required) parts.push('default: none');
  if (spec.multiple) parts.push('repeatable');
  return `(${parts.join('; ')})`;
}

/** The "Options:" block of a verb's help: every option, its value's name, meaning and default. */
export function describeOptions(specs: OptionSpecs): string {
  const rows = Object.entries(specs).map(([name, spec]) => [
    `--${name}${spec.type === 'string' ? ` ${spec.value ?? 'VALUE'}` : ''}`,
    `${spec.description} ${defaultText(spec)}`,
  ]);
  rows.push(['--help', 'print this help']);
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return ['Options:', ...rows.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`)].join('\n');
}
