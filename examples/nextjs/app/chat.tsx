"use client";

import { useChat } from "@ai-sdk/react";
import { DefaultChatTransport } from "ai";
import { useEffect, useState, type FormEvent } from "react";
import { accessToken, ensureSignedIn } from "./auth";
import type { ClientConfig } from "./config";
import { endedEarlyText, failureText } from "./failure";
import { Reply } from "./reply";
import { currentSessionId, textOf, type ChatMessage } from "./turn";

type SignIn = "off" | "pending" | "signed-in" | "failed";

export function Chat({ config }: { config: ClientConfig }) {
  const [transport] = useState(
    () =>
      new DefaultChatTransport<ChatMessage>({
        api: `${config.apiBaseUrl}/api/chat`,
        // useChat does not ask for a stream by itself; without this header the backend
        // answers one JSON body.
        headers: { Accept: "text/event-stream" },
        // The backend keeps the conversation: send only the new message and the session.
        prepareSendMessagesRequest: async ({ messages, headers }) => {
          const latest = messages[messages.length - 1];
          const body = { message: latest ? textOf(latest) : "", session_id: currentSessionId(messages) };
          const token = config.supabase ? await accessToken(config.supabase) : undefined;
          const withAuth = new Headers(headers);
          if (token) withAuth.set("Authorization", `Bearer ${token}`);
          return { body, headers: withAuth };
        },
      }),
  );
  const { messages, sendMessage, status, error } = useChat<ChatMessage>({ transport });
  const [input, setInput] = useState("");
  const [signIn, setSignIn] = useState<SignIn>(config.supabase ? "pending" : "off");
  const [hydrated, setHydrated] = useState(false);

  useEffect(() => setHydrated(true), []);

  useEffect(() => {
    if (!config.supabase) return;
    ensureSignedIn(config.supabase)
      .then(() => setSignIn("signed-in"))
      .catch(() => setSignIn("failed"));
  }, [config.supabase]);

  const busy = status === "submitted" || status === "streaming";
  const last = messages[messages.length - 1];
  // The stream closed without its finish part (cut off, or answered by something that does
  // not stream): what was shown is incomplete, so say so.
  const endedEarly = status === "ready" && last !== undefined && (last.role === "user" || !last.metadata?.outcome);
  const ready = hydrated && !busy && signIn !== "pending";
  const canSend = ready && input.trim() !== "";

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (!canSend) return;
    void sendMessage({ text: input });
    setInput("");
  }

  return (
    <main data-status={status}>
      {config.environment !== "production" && (
        <p className="dev-banner" role="note">
          Development build ({config.environment}): talking to {config.apiBaseUrl}
        </p>
      )}
      <h1>governed-chat</h1>
      {signIn === "pending" && <p className="auth">Signing in…</p>}
      {signIn === "failed" && (
        <p className="auth" role="alert">
          Sign-in failed: messages are sent without a user token.
        </p>
      )}
      <section className="messages" aria-live="polite">
        {messages.map((message, index) => (
          <article key={message.id} className={message.role} data-role={message.role}>
            {message.role === "assistant" ? (
              <Reply message={message} streaming={busy && index === messages.length - 1} />
            ) : (
              <p>{textOf(message)}</p>
            )}
          </article>
        ))}
        {status === "submitted" && <p className="thinking">…</p>}
      </section>
      {status === "error" && error && (
        <p className="failure" role="alert" data-testid="failure">
          {failureText(error)}
        </p>
      )}
      {endedEarly && (
        <p className="failure" role="alert" data-testid="failure">
          {endedEarlyText(last.role === "assistant" ? last.metadata?.request_id : undefined)}
        </p>
      )}
      <form onSubmit={onSubmit} data-ready={ready}>
        <textarea
          name="message"
          aria-label="Message"
          value={input}
          rows={3}
          onChange={(event) => setInput(event.target.value)}
          onKeyDown={(event) => {
            // Enter sends, Shift+Enter breaks the line; never mid-composition (IME input).
            if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) onSubmit(event);
          }}
        />
        <button type="submit" disabled={!canSend}>
          Send
        </button>
      </form>
    </main>
  );
}
