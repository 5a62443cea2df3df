// Verifies one access token the way a Supabase client does: `getClaims` of the auth client
// that supabase-js exposes as `supabase.auth` (@supabase/auth-js, used directly so no
// realtime/websocket client is loaded), against the project at SUPABASE_URL (the Rust
// test's JWKS server on loopback). Prints one JSON line:
// {"ok":true,"sub":...,"alg":...} or {"ok":false,"error":...}.
import { AuthClient } from '@supabase/auth-js'

const url = process.env.SUPABASE_URL
const token = process.env.ACCESS_TOKEN
if (!url || !token) {
  console.log(JSON.stringify({ ok: false, error: 'SUPABASE_URL and ACCESS_TOKEN are required' }))
  process.exit(2)
}

// supabase-js builds its auth client with `${supabaseUrl}/auth/v1`, as here.
const auth = new AuthClient({
  url: `${url.replace(/\/$/, '')}/auth/v1`,
  headers: { apikey: 'test-anon-key' },
  persistSession: false,
  autoRefreshToken: false,
  detectSessionInUrl: false,
})
const { data, error } = await auth.getClaims(token)
if (error || !data) {
  console.log(JSON.stringify({ ok: false, error: error ? String(error.message) : 'no claims' }))
  process.exit(1)
}
console.log(JSON.stringify({ ok: true, sub: data.claims.sub, alg: data.header.alg }))
