// Read on the server at request time (the page renders dynamically), so one build serves
// any backend: the NEXT_PUBLIC_* names are kept for familiarity, but they are looked up by
// a computed name, which Next.js does not inline at build time.

export type SupabaseConfig = { url: string; anonKey: string };

export type ClientConfig = {
  /** Base URL of the governed-chat backend, without a trailing slash. */
  apiBaseUrl: string;
  /** Anything but "production" shows the development banner. */
  environment: string;
  /** Set when both Supabase variables are: the page signs in and sends the access token. */
  supabase: SupabaseConfig | null;
};

/** The address `cargo run -- serve` listens on. */
const DEVELOPMENT_API_BASE_URL = "http://127.0.0.1:8000";

function variable(name: string): string | undefined {
  const value = process.env[name]?.trim();
  return value ? value : undefined;
}

export function readClientConfig(): ClientConfig {
  const apiBaseUrl = (variable("NEXT_PUBLIC_API_BASE_URL") ?? DEVELOPMENT_API_BASE_URL).replace(/\/+$/, "");
  const supabaseUrl = variable("NEXT_PUBLIC_SUPABASE_URL");
  const supabaseAnonKey = variable("NEXT_PUBLIC_SUPABASE_ANON_KEY");
  return {
    apiBaseUrl,
    environment: variable("NEXT_PUBLIC_ENV") ?? "development",
    supabase: supabaseUrl && supabaseAnonKey ? { url: supabaseUrl, anonKey: supabaseAnonKey } : null,
  };
}
