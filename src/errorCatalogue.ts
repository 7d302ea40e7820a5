// Every error code the gateway can answer or log, in one place (fastify's errors catalogue does the
// same): the HTTP status it carries, the message it says and what the reader should do about it.
// A code never changes meaning once shipped. `tests/errorCatalogue.test.ts` fails when a code used
// in src/ or dsp/ is missing here, and keeps docs/errors.md (the users' list) in step with it.

export interface CatalogueEntry {
  /** HTTP status when the error reaches a client (500 for errors that only reach the log or timeline). */
  statusCode: number;
  /** The message, with <placeholders> for what each occurrence fills in. */
  message: string;
  /** What the reader (API client, operator, flow author) should do. */
  action: string;
}

export const ERROR_CATALOGUE = {
  // ── REST API and webhooks ─────────────────────────────────────────────────────────────────────────
  GW_ERR_UNAUTHORIZED: { statusCode: 401, message: 'send the API key as "Authorization: Bearer <key>"', action: 'Send the key from data/api-key or the API_KEY variable in the Authorization header.' },
  GW_ERR_FORBIDDEN: { statusCode: 403, message: 'invalid (carrier) signature', action: "Check the carrier auth token and PUBLIC_URL: the signature covers the exact URL the carrier called." },
  GW_ERR_RATE_LIMITED: { statusCode: 429, message: 'too many <API|webhook> requests', action: 'Wait for the Retry-After seconds, or raise API_RATE_LIMIT_PER_MINUTE / WEBHOOK_RATE_LIMIT_PER_MINUTE.' },
  GW_ERR_VALIDATION: { statusCode: 400, message: '<field> <what is wrong>', action: 'Fix the named field of the request; the OpenAPI document at /docs shows the schema.' },
  GW_ERR_BAD_REQUEST: { statusCode: 400, message: '<field> <what is wrong>', action: 'Fix the named field of the request.' },
  GW_ERR_BAD_QUERY: { statusCode: 400, message: '<parameter> <what is wrong>', action: 'Fix the named query parameter.' },
  GW_ERR_INTERNAL: { statusCode: 500, message: 'internal error', action: 'A bug or an outage: look up the request in the gateway log (it has the cause) and report it.' },
  GW_ERR_BAD_WEBHOOK: { statusCode: 400, message: 'CallSid, From and To (or CallStatus) are required and must be well-formed', action: 'Point the carrier at the documented webhook URL; the request was not a carrier voice/status webhook.' },
  GW_ERR_WEBHOOK_CONTEXT_INVALID: { statusCode: 400, message: 'ctx: <why the call context in the webhook URL does not verify>', action: 'The voice webhook URL of a placed call was altered, or the instance that placed the call signs with another STREAM_TOKEN_SECRET: set the same secret on every instance.' },
  GW_ERR_WEBHOOK_CONTEXT_EXPIRED: { statusCode: 400, message: 'ctx: it expired at <time>', action: 'Nothing for a replayed webhook; a real one is late by more than the ring timeout plus an hour — check the clocks of the gateway machines.' },
  GW_ERR_WEBHOOK_CONTEXT_CARRIER: { statusCode: 400, message: 'ctx: it was issued for <carrier>, not <carrier>', action: 'Point each carrier at its own webhook path (/voice/twilio or /voice/signalwire); the URL was moved to another carrier.' },
  GW_ERR_UNKNOWN_CARRIER: { statusCode: 404, message: 'carrier must be twilio or signalwire', action: 'Use /voice/twilio, /voice/signalwire, /media/twilio or /media/signalwire.' },
  GW_ERR_DRAINING: { statusCode: 503, message: 'gateway is shutting down', action: 'Nothing: the carrier retries, and the load balancer sends new calls to another instance.' },
  // ── calls ─────────────────────────────────────────────────────────────────────────────────────────
  GW_ERR_CALL_NOT_FOUND: { statusCode: 404, message: 'no call with id <id>', action: 'Check the call id (GET /v1/calls lists them).' },
  GW_ERR_CALL_ENDED: { statusCode: 409, message: 'the call has already ended', action: 'Nothing to do: the action needs a live call.' },
  GW_ERR_DTMF_INVALID: { statusCode: 400, message: 'DTMF digits must be 0-9, *, # or A-D', action: 'Send only DTMF characters.' },
  GW_ERR_DTMF_UNSUPPORTED: { statusCode: 400, message: '<carrier> media streams cannot send DTMF', action: 'Use a carrier whose media stream accepts DTMF, or play the tones as audio.' },
  GW_ERR_TRANSFER_UNAVAILABLE: { statusCode: 503, message: 'no <carrier> REST credentials are configured, so calls cannot be transferred', action: 'Set the carrier account id and auth token (see the configuration table).' },
  // ── carrier REST ──────────────────────────────────────────────────────────────────────────────────
  GW_ERR_CARRIER_CONFIG: { statusCode: 500, message: '<carrier> REST client needs an account id and a token (SignalWire: the space name)', action: 'Set the carrier variables named in the configuration table.' },
  GW_ERR_CARRIER_BAD_REQUEST: { statusCode: 400, message: 'createCall/updateCall needs exactly one of url or twiml', action: 'A bug in the caller of the REST client: pass one of them.' },
  GW_ERR_CARRIER_BAD_RESPONSE: { statusCode: 502, message: '<request> answered <status> with a body that is not a JSON object', action: "Check the carrier's status page; the request may be retried." },
  GW_ERR_CARRIER_HTTP: { statusCode: 502, message: '<request> answered <status> (code <carrier code>): <carrier message>', action: "Read the carrier's code in details; 4xx are permanent (credentials, numbers), 5xx are retried." },
  GW_ERR_CARRIER_TIMEOUT: { statusCode: 504, message: '<request> timed out after <ms> ms', action: 'The carrier may still have acted: check the call before retrying.' },
  GW_ERR_CARRIER_UNREACHABLE: { statusCode: 502, message: '<request> failed: <network error>', action: 'Check network access to the carrier API.' },
  GW_ERR_CARRIER_REJECTED: { statusCode: 502, message: 'the carrier did not place the call: <reason>', action: 'Read the carrier reason (number format, geo permissions, balance) and fix it before retrying.' },
  GW_ERR_CARRIER_UNCERTAIN: { statusCode: 504, message: 'the carrier did not answer in time; the call may still be placed', action: 'Look the call up before placing it again, or it may ring twice.' },
  GW_ERR_CARRIER_UNAVAILABLE: { statusCode: 503, message: 'no credentials for <carrier>', action: 'Configure the carrier account (see the configuration table) or choose another carrier.' },
  // ── numbers and departments ───────────────────────────────────────────────────────────────────────
  GW_ERR_NUMBER_INVALID: { statusCode: 400, message: 'the number must be E.164', action: 'Write the number as +<country code><number>, e.g. +14155550100.' },
  GW_ERR_NUMBER_NOT_FOUND: { statusCode: 404, message: 'this number has no route', action: 'Calls to it run the default flow; PUT a route to change that.' },
  GW_ERR_DEPARTMENT_INVALID: { statusCode: 400, message: '<field> <what is wrong>', action: 'Fix the named field of the department.' },
  GW_ERR_DEPARTMENT_NOT_FOUND: { statusCode: 404, message: 'department "<name>" does not exist', action: 'Check the name (GET /v1/departments lists them).' },
  // ── flows ─────────────────────────────────────────────────────────────────────────────────────────
  GW_ERR_FLOW_INVALID: { statusCode: 400, message: 'the flow has <n> problems: <node.field: problem>', action: 'Fix each listed node and field; `errors` in the body names them all.' },
  GW_ERR_FLOW_NOT_FOUND: { statusCode: 404, message: 'flow "<id>" does not exist', action: 'Check the flow id and version (GET /v1/flows lists them).' },
  GW_ERR_FLOW_NO_DEFAULT: { statusCode: 500, message: 'no flow routes this call and the default flow "<id>" does not exist', action: 'Create the default flow or set DEFAULT_FLOW_ID to an existing one.' },
  GW_ERR_FLOW_STORE: { statusCode: 500, message: 'saving the flow returned no version', action: 'A database fault: retry, and check the database log.' },
  GW_ERR_FLOW_START: { statusCode: 500, message: 'the flow could not start: <cause>', action: "Read the cause on the call's timeline (flow.error); the caller heard the apology and was hung up." },
  GW_ERR_FLOW_LOOP: { statusCode: 500, message: 'the flow visited <n> nodes in a row without waiting for anything', action: 'Break the loop with a node that waits (say, gather, pause) or ends the call.' },
  GW_ERR_FLOW_UNKNOWN_NODE: { statusCode: 500, message: 'node "<id>" does not exist in flow "<flow>"', action: 'Fix the `next` that names it (validation normally refuses this).' },
  GW_ERR_FLOW_UNKNOWN_NODE_TYPE: { statusCode: 500, message: 'node "<id>" has an unknown type "<type>"', action: 'Use a node type the flow schema lists.' },
  GW_ERR_FLOW_NODE_FAILED: { statusCode: 500, message: 'the node failed: <cause>', action: "Give the node an onError exit, and read the cause on the call's timeline." },
  GW_ERR_FLOW_TEMPLATE: { statusCode: 400, message: 'template hole {{<hole>}} <what is wrong>', action: 'Fix the template syntax in the named field.' },
  GW_ERR_FLOW_MISSING_VARIABLE: { statusCode: 500, message: 'template reads {{<path>}}, which is not set', action: 'Set the variable earlier in the flow or give a default: {{path ?? "default"}}.' },
  GW_ERR_FLOW_VARIABLE_NAME: { statusCode: 400, message: 'variable name "<name>" is not allowed', action: 'Use a plain name (not __proto__, prototype or constructor).' },
  GW_ERR_FLOW_TTS_UNAVAILABLE: { statusCode: 500, message: 'no text-to-speech is configured, so text prompts cannot be said', action: 'Configure a voice (the offline voice is the default) or use audio prompts.' },
  GW_ERR_FLOW_TTS_FAILED: { statusCode: 500, message: 'text-to-speech (<provider>) failed: <cause>', action: 'Check the voice providers (TTS_ORDER, keys); the offline voice is the last resort.' },
  GW_ERR_FLOW_AUDIO_UNAVAILABLE: { statusCode: 500, message: 'no audio folder is configured, so audio prompts cannot be played', action: 'Set AUDIO_DIR.' },
  GW_ERR_FLOW_AUDIO_NAME: { statusCode: 400, message: 'audio file name "<name>" must be a relative path inside the audio folder', action: 'Name a file inside AUDIO_DIR without .. or a leading /.' },
  GW_ERR_FLOW_AUDIO_MISSING: { statusCode: 500, message: 'audio file "<name>" cannot be read from the audio folder', action: 'Put the file in AUDIO_DIR or fix its name.' },
  GW_ERR_FLOW_AUDIO_FORMAT: { statusCode: 500, message: 'audio file "<name>" is not a readable WAV file', action: 'Convert it to WAV (8 kHz mono mu-law or 16-bit PCM).' },
  GW_ERR_FLOW_SPEECH_UNAVAILABLE: { statusCode: 500, message: 'no speech-to-text is configured', action: 'Set OPENAI_API_KEY for speech input, or let the gather node accept DTMF.' },
  GW_ERR_FLOW_STT_FAILED: { statusCode: 500, message: 'speech-to-text failed: <cause>', action: "Check the speech provider; the gather node falls back to its no-input path." },
  GW_ERR_FLOW_AGENT_UNAVAILABLE: { statusCode: 500, message: 'no agent is configured, so the agent node cannot run', action: 'Set OPENAI_API_KEY, or route around the agent node with its onError exit.' },
  GW_ERR_FLOW_AGENT_FAILED: { statusCode: 500, message: 'the agent failed / ended with an error: <reason>', action: "Read agent.* events on the call's timeline; give the agent node an onError exit." },
  GW_ERR_FLOW_HTTP_BAD_URL: { statusCode: 500, message: 'the http node URL is not a valid URL / must use http or https', action: 'Fix the URL (after templates are filled in).' },
  GW_ERR_FLOW_HTTP_FAILED: { statusCode: 500, message: 'the http request failed: <cause>', action: 'Check that the service is reachable from the gateway.' },
  GW_ERR_FLOW_HTTP_STATUS: { statusCode: 500, message: 'the http request answered <status>', action: 'Check the service; 5xx, 408 and 429 are retried when the node allows retries.' },
  GW_ERR_FLOW_HTTP_TIMEOUT: { statusCode: 500, message: 'the http request did not answer within <ms> ms', action: 'Raise the node timeout or speed the service up.' },
  GW_ERR_FLOW_HTTP_TOO_LARGE: { statusCode: 500, message: 'the http response is larger than <n> bytes', action: 'Return a smaller response or raise the node limit.' },
  GW_ERR_FLOW_HTTP_BAD_JSON: { statusCode: 500, message: 'the http response says it is JSON but does not parse', action: 'Fix the service response or its Content-Type.' },
  GW_ERR_FLOW_HANGUP_FAILED: { statusCode: 500, message: 'hanging up failed: <cause>', action: 'Check the carrier REST credentials; the carrier ends the call when the stream closes.' },
  GW_ERR_FLOW_TRANSFER_FAILED: { statusCode: 500, message: 'the transfer failed: <cause>', action: 'Check the carrier REST credentials and the target number.' },
  GW_ERR_FLOW_BAD_NUMBER: { statusCode: 500, message: 'transfer target is not an E.164 number', action: 'Give the transfer node (or department) +<country code><number>.' },
  GW_ERR_FLOW_NO_DEPARTMENTS: { statusCode: 500, message: 'no departments are configured, so a department transfer cannot be made', action: 'Create the department (PUT /v1/departments/<name>).' },
  GW_ERR_FLOW_UNKNOWN_DEPARTMENT: { statusCode: 500, message: 'department "<name>" does not exist', action: 'Create it or fix the name in the transfer node.' },
  GW_ERR_FLOW_DEPARTMENT_EMPTY: { statusCode: 500, message: 'department "<name>" has no numbers to ring', action: 'Add numbers to the department.' },
  GW_ERR_FLOW_DEPARTMENT_CLOSED: { statusCode: 500, message: 'department "<name>" is closed and neither the node nor the department says what to do outside hours', action: 'Give the node an outsideHours exit or the department an outsideHours setting.' },
  GW_ERR_FLOW_FALLBACK_MISSING: { statusCode: 500, message: 'department "<name>" is closed and its outside-hours flow "<id>" cannot be loaded', action: "Create that flow or fix the department's outsideHours.flowId." },
  // ── agent providers ───────────────────────────────────────────────────────────────────────────────
  GW_ERR_PROVIDER_FAILED: { statusCode: 502, message: '<provider> failed (with HTTP <status>): <cause>', action: 'Check the provider key, model and status page; retryable failures are retried or fall back.' },
  GW_ERR_PROVIDER_TIMEOUT: { statusCode: 504, message: '<provider> timed out / sent nothing for <ms> ms', action: "Check the provider's status; the agent apologises and the voice falls back." },
  GW_ERR_PROVIDER_CIRCUIT_OPEN: { statusCode: 503, message: '<provider> is failing; not calling it for <ms> ms', action: 'Nothing: the next provider is used until the circuit closes; check the provider.' },
  GW_ERR_STT_FAILED: { statusCode: 502, message: 'realtime transcription refused the session: <cause>', action: 'Check OPENAI_API_KEY and OPENAI_STT_MODEL.' },
  GW_ERR_STT_DISCONNECTED: { statusCode: 502, message: 'realtime transcription socket dropped <n> times; speech input is unavailable for this call', action: 'Check network access to the speech provider; DTMF still works on the call.' },
  GW_ERR_TTS_UNAVAILABLE: { statusCode: 500, message: 'every text-to-speech provider failed; check provider keys and status', action: 'Check TTS_ORDER and the keys; the offline voice failing too means the install is broken.' },
  GW_ERR_TTS_OFFLINE_FAILED: { statusCode: 500, message: 'offline voice failed / could not start', action: 'Reinstall dependencies (npm ci): the eSpeak NG package is missing or broken.' },
  GW_ERR_TTS_OFFLINE_EXITED: { statusCode: 500, message: 'offline voice worker exited with code <code>', action: 'It restarts on the next prompt; report it if it repeats.' },
  // ── store ─────────────────────────────────────────────────────────────────────────────────────────
  GW_ERR_STORE_BAD_URL: { statusCode: 500, message: 'DATABASE_URL is not a valid URL / must start with postgres', action: 'Set DATABASE_URL to postgres://user:password@host:port/database, or unset it for the embedded database.' },
  GW_ERR_STORE_UNREACHABLE: { statusCode: 503, message: 'PostgreSQL at <host:port/database> (DATABASE_URL) did not answer within <n> s (DATABASE_START_WAIT_MS)', action: 'Start the database server or fix DATABASE_URL; raise DATABASE_START_WAIT_MS if it takes longer to come up.' },
  GW_ERR_STORE_BAD_CURSOR: { statusCode: 400, message: 'The cursor is not one this server issued', action: 'Pass nextCursor from a previous page unchanged.' },
  GW_ERR_STORE_BAD_LIMIT: { statusCode: 400, message: 'limit must be an integer from 1 to <max>', action: 'Ask for fewer rows per page and follow nextCursor.' },
  GW_ERR_STORE_BAD_RANGE: { statusCode: 400, message: '<name> is not a valid date', action: 'Use an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z.' },
  GW_ERR_STORE_CREATE_LOST: { statusCode: 500, message: 'The call record could not be created or found', action: 'A database fault: check the database; the call itself went on.' },
  GW_ERR_STORE_NOT_TERMINAL: { statusCode: 500, message: 'end() needs a terminal status, got "<status>"', action: 'A bug: report it.' },
  GW_ERR_STORE_UNKNOWN_STATUS: { statusCode: 500, message: 'Unknown call status "<status>"', action: 'A bug or a newer instance wrote the row: report it.' },
  GW_ERR_STORE_MIGRATION_NAME: { statusCode: 500, message: 'Migration file <file> must be named NNN_name.sql', action: 'Rename the migration file.' },
  GW_ERR_STORE_MIGRATION_DUPLICATE: { statusCode: 500, message: 'Migrations <a> and <b> share version <n>', action: 'Renumber one of them.' },
  GW_ERR_STORE_MIGRATION_CHANGED: { statusCode: 500, message: 'Migration <n> was changed after it was applied', action: 'Restore the applied file and put the change in a new migration.' },
  GW_ERR_STORE_MIGRATION_FAILED: { statusCode: 500, message: 'Migration <n> failed: <cause>', action: 'Fix the SQL or the database state; the migration ran in a transaction and left nothing behind.' },
  // ── replay tool ───────────────────────────────────────────────────────────────────────────────────
  GW_ERR_REPLAY_ARGS: { statusCode: 400, message: '<what is wrong with the arguments> + usage', action: 'Fix the command line (npm run replay -- --help).' },
  GW_ERR_REPLAY_CONNECT: { statusCode: 502, message: 'media websocket <url> failed: <cause>', action: 'Check that the gateway runs and the stream URL is reachable.' },
  GW_ERR_REPLAY_TWIML: { statusCode: 502, message: '<Stream url> is not a URL', action: "Check PUBLIC_URL: the gateway's TwiML names it." },
  GW_ERR_REPLAY_WEBHOOK: { statusCode: 502, message: 'voice webhook <url> answered <status> / failed', action: 'Check the gateway URL and its webhook authentication settings.' },
  // ── security and reliability ──────────────────────────────────────────────────────────────────────
  GW_ERR_SECRET_TOO_SHORT: { statusCode: 500, message: '<file> holds <n> characters but a secret needs at least <min>', action: 'Delete the file to have a new secret generated, or write a longer random value (openssl rand -hex 32).' },
  GW_ERR_HOST_NOT_ALLOWED: { statusCode: 403, message: 'requests must be addressed to <host> (PUBLIC_URL) or a loopback name', action: 'Set PUBLIC_URL to the address carriers (or your tunnel) use.' },
  GW_ERR_STREAMS_PENDING: { statusCode: 503, message: 'too many media streams waiting to start', action: 'Retry shortly; raise MAX_PENDING_STREAMS / MAX_PENDING_STREAMS_PER_ADDRESS if real carrier streams are refused.' },
  GW_ERR_CALL_NOT_RECORDED_YET: { statusCode: 503, message: "<write>: the call's record does not exist yet", action: 'Nothing: the write is retried until the record exists.' },
  GW_ERR_FLOW_VALUE_TOO_LARGE: { statusCode: 500, message: "the flow's variables would take <n> bytes, more than <limit>", action: 'Keep less in flow variables (a set node or http response grew too large).' },
  GW_ERR_FLOW_HTTP_NOT_ALLOWED: { statusCode: 403, message: 'the http request is not allowed: <reason>', action: 'List the host (or its address range) in FLOW_HTTP_ALLOW_HOSTS.' },
  GW_ERR_FLOW_TRANSFER_NOT_ALLOWED: { statusCode: 500, message: 'the agent asked to transfer to a number it may not use', action: "List the number in the agent node's transferNumbers or AGENT_TRANSFER_NUMBERS, or transfer to departments." },
  // ── campaigns and do-not-call ─────────────────────────────────────────────────────────────────────
  GW_ERR_CAMPAIGN_NOT_FOUND: { statusCode: 404, message: 'no campaign <id>', action: 'Check the id; GET /v1/campaigns lists them.' },
  GW_ERR_CAMPAIGN_INVALID: { statusCode: 400, message: '<field>: <what is wrong>', action: 'Fix the named field of the campaign.' },
  GW_ERR_CAMPAIGN_STATE: { statusCode: 409, message: 'cannot <action> a campaign that is <state>', action: 'Only the transitions draft → running ⇄ paused → stopped are allowed.' },
  GW_ERR_CAMPAIGN_ENDED: { statusCode: 409, message: 'campaign is <state>', action: 'Import into (or change) a new campaign.' },
  GW_ERR_CAMPAIGN_BAD_CURSOR: { statusCode: 400, message: '<field>: not a cursor this server issued', action: 'Pass nextCursor from the previous page unchanged.' },
  GW_ERR_CAMPAIGN_NOTHING_TO_SKIP: { statusCode: 409, message: 'no queued contact to skip', action: 'Only a queued contact can be skipped.' },
  GW_ERR_CAMPAIGN_IMPORT: { statusCode: 400, message: 'contacts: <what is wrong>', action: 'Send text/csv with a phone column, or JSON {"contacts": [...]}, within the size limits.' },
  GW_ERR_CAMPAIGN_CONTACT_NOT_FOUND: { statusCode: 404, message: 'contactId: no contact <id> in campaign <id>', action: 'Check the contact id; GET /v1/campaigns/{id}/contacts lists them.' },
  GW_ERR_CAMPAIGN_NOT_IN_REVIEW: { statusCode: 409, message: 'contactId: contact <id> is <state>, not in review', action: 'Only a contact in review (GET .../contacts?state=review) can be resolved, once; reload the list.' },
  GW_ERR_CAMPAIGN_STREAMS: { statusCode: 503, message: 'too many open stats streams', action: 'Close some streams or poll GET /v1/campaigns/{id}/stats.' },
  GW_ERR_DNC_INVALID_NUMBER: { statusCode: 400, message: '<field>: "<text>" is not a valid phone number', action: 'Use E.164 such as +14155550123.' },
  GW_ERR_DNC_NOT_FOUND: { statusCode: 404, message: 'e164: <number> is not on the do-not-call list', action: 'Nothing to remove.' },
  GW_ERR_DNC_IMPORT: { statusCode: 400, message: 'phone: the CSV header needs a "phone" (or "e164") column', action: 'Add a phone column to the CSV.' },
  GW_ERR_SIM_SCENARIO: { statusCode: 400, message: '<where>: <what is wrong>', action: 'Fix the carrier simulator scenario file (see the README).' },
  // ── analytics, recordings, metrics ────────────────────────────────────────────────────────────────
  GW_ERR_ANALYTICS_BAD_QUERY: { statusCode: 400, message: '<parameter>: <what is wrong>', action: 'Fix the named query parameter (details.field names it).' },
  GW_ERR_FLOW_SUCCESS_WHEN: { statusCode: 500, message: "the flow's successWhen could not be evaluated: <reason>", action: "Fix the flow's successWhen expression; the call's outcome is then 'completed'." },
  GW_ERR_METRICS_FORBIDDEN: { statusCode: 403, message: 'metrics are served to loopback or with the metrics token', action: 'Scrape from the same host, or send Authorization: Bearer $METRICS_TOKEN.' },
  GW_ERR_RECORDING_NOT_FOUND: { statusCode: 404, message: 'call <id> has no recording', action: 'Turn recording on (RECORD_CALLS, the flow\'s record, or record: true on POST /v1/calls) for later calls.' },
  GW_ERR_RECORDING_DELETED: { statusCode: 410, message: 'the recording of call <id> was deleted', action: 'Nothing: it was deleted by an operator or by retention (RECORDING_RETENTION_DAYS).' },
  GW_ERR_RECORDING_MISSING: { statusCode: 404, message: 'the recording file of call <id> is missing from storage', action: 'Check the recordings volume (DATA_DIR/recordings) is shared by every instance.' },
  GW_ERR_RECORDING_RANGE: { statusCode: 416, message: 'range <range> is not satisfiable', action: 'Ask for bytes within the Content-Length.' },
  GW_ERR_RECORDING_BAD_ID: { statusCode: 400, message: 'not a recording id', action: 'Use the recording id or URL from GET /v1/calls/{id}.' },
  // ── operators, sessions, dashboard ────────────────────────────────────────────────────────────────
  GW_ERR_CSRF: { statusCode: 403, message: 'missing or wrong CSRF token', action: 'Send the x-csrf-token header from GET /v1/auth/session with every change made with a session cookie.' },
  GW_ERR_LOGIN_FAILED: { statusCode: 401, message: 'wrong user name or password', action: 'Check the credentials; an admin can reset a password (npm run admin -- reset-password <user>).' },
  GW_ERR_USER_EXISTS: { statusCode: 409, message: 'a user named <name> exists', action: 'Choose another name.' },
  GW_ERR_USER_NOT_FOUND: { statusCode: 404, message: 'no user <id>', action: 'Check the id; GET /v1/users lists them.' },
  GW_ERR_LAST_ADMIN: { statusCode: 409, message: 'the last admin cannot be removed or demoted', action: 'Make another user admin first.' },
  GW_ERR_KEY_NOT_FOUND: { statusCode: 404, message: 'no API key <id>', action: 'Check the id; GET /v1/keys lists them.' },
  GW_ERR_CALL_NOT_LIVE: { statusCode: 404, message: 'call <id> is not live on this instance', action: 'Listen-in works while the call runs, on the instance serving it.' },
} as const satisfies Record<`GW_ERR_${string}`, CatalogueEntry>;

export type CataloguedCode = keyof typeof ERROR_CATALOGUE;

/** The users' list (docs/errors.md), rendered from the catalogue. */
export function renderErrorDocs(): string {
  const rows = Object.entries(ERROR_CATALOGUE)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, e]) => `| \`${code}\` | ${e.statusCode} | ${escapeCell(e.message)} | ${escapeCell(e.action)} |`);
  return [
    '# Error codes',
    '',
    'Every error the gateway answers has a stable `code` (`{"code": "GW_ERR_…", "message": "…"}`); the same codes',
    "appear in the log and on a call's timeline. Generated from `src/errorCatalogue.ts` (`npx node src/cli/errorsDoc.ts`);",
    'a test fails when the two differ or when a code is used without being listed.',
    '',
    '| code | HTTP status | message | what to do |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

function escapeCell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
