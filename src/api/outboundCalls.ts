// POST /v1/calls: place an outbound call through the carrier's REST API (placeCall.ts, shared with the
// campaign dialer); the call runs its flow once answered — with AMD on by default, as outbound calls should.
import type { FastifyInstance } from 'fastify';
import type { Carrier } from '../call/events.ts';
import type { Config } from '../config.ts';
import { createError } from '../errors.ts';
import type { CarrierClients } from '../gateway/carrierClients.ts';
import type { FlowResolver } from '../flow/resolve.ts';
import type { CallStore } from '../store/calls.ts';
import { placeOutboundCall } from './placeCall.ts';

export interface OutboundCallDeps {
  config: Config;
  calls: CallStore;
  clients: CarrierClients;
  resolver: FlowResolver;
  streamTokenSecret: string;
}

interface Body {
  to: string;
  from: string;
  flowId: string;
  variables?: Record<string, unknown>;
  amd?: boolean;
  carrier?: Carrier;
  timeoutS?: number;
  record?: boolean;
}

const E164 = '^\\+[1-9][0-9]{6,14}$';

export async function outboundCallRoutes(app: FastifyInstance, deps: OutboundCallDeps): Promise<void> {
  app.post<{ Body: Body }>(
    '/calls',
    {
      schema: {
        summary: 'Place an outbound call that runs a flow when answered',
        tags: ['calls'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['to', 'from', 'flowId'],
          properties: {
            to: { type: 'string', pattern: E164, description: 'E.164 number to call' },
            from: { type: 'string', pattern: E164, description: 'E.164 caller id (a number of your carrier account)' },
            flowId: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' },
            variables: { type: 'object', additionalProperties: true, maxProperties: 100, description: 'available to the flow, e.g. {"contact": {"firstName": "Ada"}}' },
            amd: { type: 'boolean', default: true, description: 'run answering-machine detection from answer' },
            carrier: { type: 'string', enum: ['twilio', 'signalwire'] },
            timeoutS: { type: 'integer', minimum: 5, maximum: 600, default: 60 },
            record: { type: 'boolean', description: 'record this call (the same as the call variable record: true)' },
          },
        },
        response: {
          201: { type: 'object', properties: { id: { type: 'string' }, carrier: { type: 'string' }, carrierCallId: { type: 'string' }, status: { type: 'string' } } },
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      if (JSON.stringify(body.variables ?? {}).length > 16 * 1024) {
        throw createError('GW_ERR_BAD_REQUEST', 'variables: must serialize to at most 16 KiB', { statusCode: 400 });
      }
      const carrier: Carrier | undefined = body.carrier ?? (deps.clients.twilio ? 'twilio' : deps.clients.signalwire ? 'signalwire' : undefined);
      const client = carrier === undefined ? undefined : deps.clients[carrier];
      if (carrier === undefined || client === undefined) {
        throw createError('GW_ERR_CARRIER_UNAVAILABLE', `no credentials for ${body.carrier ?? 'any carrier'}: set TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN or the SIGNALWIRE_* variables`, { statusCode: 503 });
      }
      if ((await deps.resolver.load(body.flowId)) === undefined) {
        throw createError('GW_ERR_FLOW_NOT_FOUND', `flowId: no flow "${body.flowId}"; deploy it with POST /v1/flows first`, { statusCode: 400 });
      }
      const result = await placeOutboundCall(
        { config: deps.config, calls: deps.calls, client, streamTokenSecret: deps.streamTokenSecret, onNoteFailed: (err, callId) => request.log.warn({ err, callId }, 'recording the carrier call id failed; the webhook will fill it in') },
        { carrier, to: body.to, from: body.from, flowId: body.flowId, // `record` travels as a call variable, the way a campaign sets it for its calls.
          variables: body.record === true ? { ...body.variables, record: true } : (body.variables ?? {}), amd: body.amd ?? true, timeoutS: body.timeoutS ?? 60 },
      );
      if (result.kind === 'uncertain') {
        // The carrier may have placed the call anyway: its webhook will find the record by our id.
        // Neither mark it failed nor invite a retry that could ring the person twice.
        throw createError('GW_ERR_CARRIER_UNCERTAIN', `the carrier did not answer in time; the call may still be placed — check GET /v1/calls/${result.callId} before retrying`, { statusCode: 504, retryable: false, details: { id: result.callId }, cause: result.error });
      }
      if (result.kind === 'rejected') {
        const err = result.error;
        throw createError('GW_ERR_CARRIER_REJECTED', `the carrier did not place the call: ${err.message}`, { statusCode: err.retryable ? 503 : 502, retryable: err.retryable, cause: err });
      }
      request.log.info({ callId: result.callId, carrier }, 'outbound call placed');
      return reply.code(201).send({ id: result.callId, carrier, carrierCallId: result.carrierCallId, status: result.status });
    },
  );
}
