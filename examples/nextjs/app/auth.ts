import type { SupabaseClient } from "@supabase/supabase-js";
import type { SupabaseConfig } from "./config";

// Supabase Auth in the browser: the backend verifies the access token of the current
// session on every turn (AUTH_MODE=optional|required). The default flow signs in
// anonymously (enable "anonymous sign-ins" in the Supabase project); replace
// `signInAnonymously` with your own sign-in UI for real accounts. supabase-js is loaded
// only in the browser and only when Supabase is configured.

let client: Promise<SupabaseClient> | null = null;

function supabase(config: SupabaseConfig): Promise<SupabaseClient> {
  client ??= import("@supabase/supabase-js").then(({ createClient }) =>
    createClient(config.url, config.anonKey, {
      auth: { persistSession: true, autoRefreshToken: true },
    }),
  );
  return client;
}

let signedIn: Promise<string> | null = null;

/** Signs in anonymously unless a session is already stored. Resolves to the user's id.
 * Memoized, so a remounted page (React's strict mode in development) signs in once. */
export function ensureSignedIn(config: SupabaseConfig): Promise<string> {
  signedIn ??= signIn(config).catch((error: unknown) => {
    signedIn = null;
    throw error;
  });
  return signedIn;
}

async function signIn(config: SupabaseConfig): Promise<string> {
  const auth = (await supabase(config)).auth;
  const { data } = await auth.getSession();
  if (data.session) return data.session.user.id;
  const { data: created, error } = await auth.signInAnonymously();
  if (error || !created.user) throw error ?? new Error("anonymous sign-in returned no user");
  return created.user.id;
}

/** The access token of the current session (refreshed by supabase-js when it expires). */
export async function accessToken(config: SupabaseConfig): Promise<string | undefined> {
  const { data } = await (await supabase(config)).auth.getSession();
  return data.session?.access_token;
}
