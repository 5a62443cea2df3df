import { APICallError } from "ai";

// How a failed turn is shown: its category and request id, never any detail. A failure
// after the stream began arrives as an `error` part whose text is
// "<category> (request <id>)"; one decided before the stream is a JSON error body.
const STREAMED_FAILURE = /^([a-z_.]+) \(request ([A-Za-z0-9._-]+)\)$/;

export function failureText(error: Error): string {
  const streamed = STREAMED_FAILURE.exec(error.message);
  if (streamed) return described(streamed[1], streamed[2]);
  if (APICallError.isInstance(error)) {
    const body = parsed(error.responseBody);
    const category = text(body?.category) ?? text(body?.error) ?? `HTTP ${error.statusCode ?? "error"}`;
    return described(category, text(body?.request_id));
  }
  // fetch() itself failed: the backend is down, or the browser withheld the answer
  // because this page's origin is not allowed by the backend's CORS_ORIGINS.
  return "Something went wrong (the chat service could not be reached)";
}

export function endedEarlyText(requestId: string | undefined): string {
  return described("the reply ended before it finished", requestId);
}

function described(category: string, requestId: string | undefined): string {
  return requestId
    ? `Something went wrong (${category}, request ${requestId})`
    : `Something went wrong (${category})`;
}

function parsed(body: string | undefined): Record<string, unknown> | undefined {
  try {
    const value: unknown = body ? JSON.parse(body) : undefined;
    return value && typeof value === "object" ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value ? value : undefined;
}
