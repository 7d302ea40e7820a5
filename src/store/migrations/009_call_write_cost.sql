-- The cost of writing a call (README, "The cost of a call"): every update of a live call — its start,
-- answer, AMD verdict, end, outcome — changes an indexed column, so none is a HOT update and each one
-- adds an entry to every index of calls. Two of those indexes have nothing left to serve:
--
-- - calls_campaign_created_idx (006) covers metadata->>'campaignId' alone; since 008 every campaign
--   filter (src/analytics/filters.ts, rollupSource.ts) reads COALESCE(metadata->>'campaignId',
--   metadata->'campaign'->>'id'), which calls_campaign_any_created_idx covers.
-- - calls_flow_idx (001, flow_id, flow_version): the queries by flow (the calls list, the analytics
--   filters, the flow editor's exit counts in src/web/flowExits.ts) all bound created_at too, which
--   calls_flow_created_idx (006, flow_id, created_at) serves, the version as a filter on its range.
--
-- Plans checked with EXPLAIN on a few thousand calls (tests/store/callIndexes.test.ts keeps them).
DROP INDEX IF EXISTS calls_campaign_created_idx;
DROP INDEX IF EXISTS calls_flow_idx;
