-- governed-chat 0003: the categories added for provider failures an operator can act on
-- (provider.auth, provider.rejected), verified users (auth.invalid_token), the global cap on
-- concurrent provider calls (capacity) and streamed turns the client left
-- (client.disconnected); and, for streamed turns, the time from admission to the first
-- governed byte sent (milliseconds; NULL for JSON turns and turns that sent none).
ALTER TABLE requests DROP CONSTRAINT requests_category_check;
ALTER TABLE requests ADD CONSTRAINT requests_category_check CHECK (category IN (
    'policy.prompt_injection',
    'policy.system_prompt_extraction',
    'policy.input_too_long',
    'policy.system_prompt_leak',
    'quota',
    'provider.timeout',
    'provider.unavailable',
    'provider.bad_response',
    'provider.rate_limited',
    'provider.auth',
    'provider.rejected',
    'auth.invalid_token',
    'capacity',
    'client.disconnected',
    'dependency.database',
    'dependency.shutting_down',
    'internal'));

ALTER TABLE requests ADD COLUMN first_byte_ms bigint CHECK (first_byte_ms >= 0);
