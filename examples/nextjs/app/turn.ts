import type { UIMessage } from "ai";

/** What the backend puts in the `start` and `finish` parts of every streamed turn. */
export type TurnMetadata = {
  request_id?: string;
  session_id?: string;
  outcome?: "accepted" | "refused" | "aborted";
  category?: string;
};

export type ChatMessage = UIMessage<TurnMetadata>;

export function textOf(message: ChatMessage): string {
  return message.parts.map((part) => (part.type === "text" ? part.text : "")).join("");
}

/** The session the backend gave the latest turn: sent back so the session continues. */
export function currentSessionId(messages: ChatMessage[]): string | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const sessionId = messages[i].metadata?.session_id;
    if (sessionId) return sessionId;
  }
  return undefined;
}

// The backend's fixed refusal texts (backend/governor/mod.rs). A refusal decided after text
// was already streamed (e.g. the reply turned out to be a leak of the instructions) arrives
// as `outcome: "refused"` in the finish part: the page then replaces everything it showed
// with the refusal, so the refused text never stays on screen.
const REFUSALS: Record<string, string> = {
  "policy.input_too_long": "Your message is too long. Please shorten it and try again.",
  "policy.system_prompt_leak": "I can't share that response. Please ask something else.",
  "policy.prompt_injection": "I can't help with that request. Please ask something else.",
  "policy.system_prompt_extraction": "I can't help with that request. Please ask something else.",
};

export function refusalText(metadata: TurnMetadata): string {
  return (metadata.category && REFUSALS[metadata.category]) || "I can't help with that request.";
}
