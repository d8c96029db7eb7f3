/**
 * ChatApi command tables made from the contract itself: one function per key
 * of CommandSchemas, so a command added to the contract is in every table the
 * moment it exists, and nothing can leave one out.
 */
import {
  type ChatCommands,
  type CommandInput,
  type CommandName,
  type CommandOutput,
  CommandSchemas,
  type Result,
} from '../../src/shared/chat-api.ts';

/** Every command's name, in the contract's order (Object.keys only loses the literal types). */
export const COMMAND_NAMES = Object.keys(CommandSchemas) as CommandName[];

/** One command; the input is optional so commands that take none fit ChatCommands' `() => …`. */
export type Command<K extends CommandName> = (input?: CommandInput<K>) => Promise<Result<CommandOutput<K>>>;
export type CommandTable = { [K in CommandName]: Command<K> };
type PartialTable = { [K in CommandName]?: Command<K> };

const missingFrom = (table: PartialTable): CommandName[] =>
  COMMAND_NAMES.filter((name) => typeof table[name] !== 'function');

/** Checked, not cast: the type system cannot follow a loop over keys, so the table is counted instead. */
function isComplete(table: PartialTable): table is CommandTable {
  return missingFrom(table).length === 0;
}

function put<K extends CommandName>(table: { [P in K]?: Command<P> }, name: K, command: Command<K>): void {
  table[name] = command;
}

/** Builds every command of the contract with `make`; the result is a ChatCommands with nothing missing. */
export function commandTable(make: <K extends CommandName>(name: K) => Command<K>): ChatCommands {
  const table: PartialTable = {};
  for (const name of COMMAND_NAMES) put(table, name, make(name));
  if (!isComplete(table)) throw new Error(`command table lacks ${missingFrom(table).join(', ')}`);
  return table;
}
