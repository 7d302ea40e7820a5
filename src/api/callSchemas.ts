// Response schemas of a call's read side (outcome, transcript, analysis, recording), shared by
// GET /v1/calls/{id} and the OpenAPI document, and the public form of a call record.
import { CALL_OUTCOME_CATEGORIES, FAILURE_REASONS } from '../outcome/vocabulary.ts';
import type { CallRecord } from '../store/calls.ts';

export const outcomeSchema = {
  type: ['object', 'null'],
  properties: {
    category: { type: 'string', enum: [...CALL_OUTCOME_CATEGORIES] },
    failureReason: { type: ['string', 'null'], enum: [...FAILURE_REASONS, null] },
    disposition: { type: ['string', 'null'] },
    decidedAt: { type: ['string', 'null'] },
  },
  examples: [{ category: 'failed', failureReason: 'caller-hung-up-early', disposition: null, decidedAt: '2026-03-01T10:02:11.120Z' }],
} as const;

export const transcriptSchema = {
  type: 'array',
  items: {
    type: 'object',
    properties: {
      speaker: { type: 'string', enum: ['caller', 'gateway'] },
      text: { type: 'string' },
      startMs: { type: 'number' },
      endMs: { type: 'number' },
      source: { type: 'string', enum: ['stt', 'dtmf', 'prompt', 'agent'] },
      interrupted: { type: 'boolean' },
    },
  },
  examples: [
    [
      { speaker: 'gateway', text: 'Hello, this is the clinic. How can I help?', startMs: 0, endMs: 2600, source: 'agent', interrupted: false },
      { speaker: 'caller', text: 'I want to book an appointment', startMs: 3100, endMs: 4900, source: 'stt', interrupted: false },
    ],
  ],
} as const;

export const analysisSchema = {
  type: ['object', 'null'],
  additionalProperties: true,
  properties: {
    status: { type: 'string', enum: ['done', 'failed'] },
    summary: { type: 'string' },
    disposition: { type: ['string', 'null'] },
    sentiment: { type: 'string', enum: ['positive', 'neutral', 'negative'] },
    model: { type: 'string' },
    analyzedAt: { type: 'string' },
  },
} as const;

export const recordingSchema = {
  type: ['object', 'null'],
  properties: {
    id: { type: 'string' },
    url: { type: 'string' },
    status: { type: 'string' },
    bytes: { type: ['integer', 'null'] },
    durationMs: { type: ['integer', 'null'] },
    deletedAt: { type: ['string', 'null'] },
  },
  examples: [{ id: '3f1c…', url: '/v1/calls/3f1c…/recording', status: 'saved', bytes: 1920044, durationMs: 60000, deletedAt: null }],
} as const;

export const callDetailSchemas = {
  outcome: outcomeSchema,
  transcript: transcriptSchema,
  analysis: analysisSchema,
  recording: recordingSchema,
} as const;

/** A call record as the API shows it: without the recording's location on disk. */
export function publicCall(call: CallRecord): Omit<CallRecord, 'recordingPath'> {
  const { recordingPath: _hidden, ...rest } = call;
  return rest;
}
