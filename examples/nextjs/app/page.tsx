import { Chat } from "./chat";
import { readClientConfig } from "./config";

// Rendered per request so the configuration is read when the server runs, not when it
// was built.
export const dynamic = "force-dynamic";

export default function Page() {
  return <Chat config={readClientConfig()} />;
}
