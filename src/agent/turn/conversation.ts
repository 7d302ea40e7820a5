// The conversation an agent node holds with its language model: the system prompt, the caller's turns
// and the agent's answers as the caller heard them. Turns are counted here; a turn the agent never got
// to answer audibly is taken back (the caller's words join their next turn), and an answer cut short
// is rewritten to what was heard (truncateRun).
import type { AgentNodeSpec } from '../node.ts';
import type { ChatMessage } from '../providers.ts';
import { removeMessage, truncateRun, type TurnRun } from './response.ts';

const SYSTEM_SUFFIX =
  'You are speaking on a phone call: answer in one to three short spoken sentences, no lists or markup. ' +
  "Keypad presses reach you as 'DTMF: <digits>'. Use the tools to act; say a short sentence before transfer or hangup.";

export class Conversation {
  /** The messages, oldest first (responses append to it). */
  readonly history: ChatMessage[] = [];
  /** The caller's turns so far. */
  turns = 0;

  constructor(spec: AgentNodeSpec, variables: Readonly<Record<string, unknown>>) {
    const known = Object.keys(variables).length > 0 ? `\nKnown variables: ${JSON.stringify(variables)}` : '';
    this.history.push({ role: 'system', content: `${spec.instructions}\n\n${SYSTEM_SUFFIX}${known}` });
  }

  /** A new turn of the caller's begins; returns its number. */
  nextTurn(): number {
    return ++this.turns;
  }

  /** The caller's words of the current turn. */
  addUser(text: string): ChatMessage {
    const msg: ChatMessage = { role: 'user', content: text };
    this.history.push(msg);
    return msg;
  }

  /** The caller's turn `msg` was never answered audibly: it is no turn of its own. */
  takeBack(msg: ChatMessage): void {
    removeMessage(this.history, msg);
    this.turns--;
  }

  /** `run` ended (finished, failed or cut short): its messages say only what was heard. */
  settle(run: TurnRun): void {
    truncateRun(this.history, run);
  }
}
