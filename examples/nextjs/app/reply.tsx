import Markdown from "react-markdown";
import remarkGfm from "remark-gfm";
import { refusalText, textOf, type ChatMessage } from "./turn";

// The backend sends HTML-safe Markdown. react-markdown renders no raw HTML; images are
// dropped (the backend already turns them into their alt text) so nothing loads.
export function Reply({ message, streaming }: { message: ChatMessage; streaming: boolean }) {
  const metadata = message.metadata ?? {};
  if (metadata.outcome === "refused") {
    return (
      <div
        className="reply refusal"
        data-outcome="refused"
        data-category={metadata.category}
        data-request-id={metadata.request_id}
        data-session-id={metadata.session_id}
      >
        <p>{refusalText(metadata)}</p>
        <p className="meta">Refused ({metadata.category ?? "policy"})</p>
      </div>
    );
  }
  return (
    <div
      className="reply"
      data-outcome={metadata.outcome ?? "pending"}
      data-state={streaming ? "streaming" : "done"}
      data-category={metadata.category}
      data-request-id={metadata.request_id}
      data-session-id={metadata.session_id}
    >
      <Markdown remarkPlugins={[remarkGfm]} disallowedElements={["img"]} unwrapDisallowed>
        {textOf(message)}
      </Markdown>
    </div>
  );
}
