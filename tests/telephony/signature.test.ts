// Request signatures: the published vectors (reference/telephony.md, twilio-node spec/validation.spec.js)
// and a cross-check against the official `twilio` package over randomized inputs.
import { randomBytes, randomInt } from 'node:crypto';
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import {
  computeBodyHash,
  computeSignature,
  signatureHeaderFor,
  signatureUrlCandidates,
  validateSignature,
  validateSignatureWithBody,
} from '../../src/telephony/signature.ts';

const TOKEN = '12345';
const NODE_URL = 'https://mycompany.com/myapp.php?foo=1&bar=2';
const NODE_PARAMS = { CallSid: 'CA1234567890ABCDE', Caller: '+14158675309', Digits: '1234', From: '+14158675309', To: '+18005551212' };

describe('published signature vectors', () => {
  it('Twilio security docs example', () => {
    const params = { Digits: '1234', To: '+18005551212', From: '+14158675310', Caller: '+14158675310', CallSid: 'CA1234567890ABCDE' };
    expect(computeSignature(TOKEN, 'https://example.com/myapp.php?foo=1&bar=2', params)).toBe('L/OH5YylLD5NRKLltdqwSvS0BnU=');
    expect(validateSignature(TOKEN, 'L/OH5YylLD5NRKLltdqwSvS0BnU=', 'https://example.com/myapp.php?foo=1&bar=2', params)).toBe(true);
  });

  it('twilio-node form vector and its legacy variant', () => {
    expect(computeSignature(TOKEN, NODE_URL, NODE_PARAMS)).toBe('RSOYDt4T1cUTdK1PDd93/VVr8B8=');
    const legacy = { ...NODE_PARAMS, Caller: '+12349013030', From: '+12349013030' };
    expect(computeSignature(TOKEN, NODE_URL, legacy)).toBe('0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
  });

  it('twilio-node JSON body vector (bodySHA256)', () => {
    const body = '{"property": "value", "boolean": true}';
    const hash = computeBodyHash(body);
    expect(hash).toBe('0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620');
    const url = `${NODE_URL}&bodySHA256=${hash}`;
    expect(computeSignature(TOKEN, url)).toBe('a9nBmqA0ju/hNViExpshrM61xv4=');
    expect(validateSignatureWithBody(TOKEN, 'a9nBmqA0ju/hNViExpshrM61xv4=', url, body)).toBe(true);
    expect(validateSignatureWithBody(TOKEN, 'a9nBmqA0ju/hNViExpshrM61xv4=', url, body + ' ')).toBe(false);
    expect(validateSignatureWithBody(TOKEN, 'a9nBmqA0ju/hNViExpshrM61xv4=', NODE_URL, body)).toBe(false);
  });
});

describe('validateSignature', () => {
  it('accepts the URL with or without the default port, both ways round', () => {
    const sig = computeSignature(TOKEN, NODE_URL, NODE_PARAMS);
    expect(validateSignature(TOKEN, sig, 'https://mycompany.com:443/myapp.php?foo=1&bar=2', NODE_PARAMS)).toBe(true);
    const sigWithPort = computeSignature(TOKEN, 'https://mycompany.com:443/myapp.php?foo=1&bar=2', NODE_PARAMS);
    expect(validateSignature(TOKEN, sigWithPort, NODE_URL, NODE_PARAMS)).toBe(true);
    const httpSig = computeSignature(TOKEN, 'http://mycompany.com:80/voice/twilio', {});
    expect(validateSignature(TOKEN, httpSig, 'http://mycompany.com/voice/twilio')).toBe(true);
    // Like twilio-node, a port in the URL we received may be dropped (proxies add and strip them).
    const odd = 'https://mycompany.com:8443/myapp.php?foo=1&bar=2';
    expect(validateSignature(TOKEN, sig, odd, NODE_PARAMS)).toBe(twilio.validateRequest(TOKEN, sig, odd, NODE_PARAMS));
    // …but a signature over one port does not validate for another.
    const sig8443 = computeSignature(TOKEN, odd, NODE_PARAMS);
    expect(validateSignature(TOKEN, sig8443, 'https://mycompany.com:9443/myapp.php?foo=1&bar=2', NODE_PARAMS)).toBe(false);
  });

  it('accepts a WS upgrade signed with or without a trailing slash, and wss default port 443', () => {
    const sig = computeSignature(TOKEN, 'wss://gw.example.com/media/twilio');
    expect(validateSignature(TOKEN, sig, 'wss://gw.example.com/media/twilio/')).toBe(true);
    expect(validateSignature(TOKEN, sig, 'wss://gw.example.com:443/media/twilio')).toBe(true);
    const slashSig = computeSignature(TOKEN, 'wss://gw.example.com/media/twilio/');
    expect(validateSignature(TOKEN, slashSig, 'wss://gw.example.com/media/twilio')).toBe(true);
    expect(validateSignature(TOKEN, sig, 'wss://gw.example.com/media/signalwire')).toBe(false);
    expect(signatureUrlCandidates('wss://h/media/twilio')).toEqual(expect.arrayContaining(['wss://h/media/twilio', 'wss://h:443/media/twilio', 'wss://h/media/twilio/']));
  });

  it('rejects a wrong token, a tampered param, a missing or garbled header', () => {
    const sig = computeSignature(TOKEN, NODE_URL, NODE_PARAMS);
    expect(validateSignature('54321', sig, NODE_URL, NODE_PARAMS)).toBe(false);
    expect(validateSignature(TOKEN, sig, NODE_URL, { ...NODE_PARAMS, Digits: '1235' })).toBe(false);
    expect(validateSignature(TOKEN, undefined, NODE_URL, NODE_PARAMS)).toBe(false);
    expect(validateSignature(TOKEN, '', NODE_URL, NODE_PARAMS)).toBe(false);
    expect(validateSignature(TOKEN, 'short', NODE_URL, NODE_PARAMS)).toBe(false);
    expect(validateSignature('', sig, NODE_URL, NODE_PARAMS)).toBe(false);
  });

  it('signs repeated params as each distinct value, sorted', () => {
    const expected = twilio.getExpectedTwilioSignature(TOKEN, NODE_URL, { A: ['2', '1', '2'] });
    expect(computeSignature(TOKEN, NODE_URL, { A: ['2', '1', '2'] })).toBe(expected);
    expect(computeSignature(TOKEN, NODE_URL, { A: ['2', '1', '2'] })).toBe(computeSignature(TOKEN, `${NODE_URL}A1A2`));
  });

  it('names the header per carrier', () => {
    expect(signatureHeaderFor('twilio')).toBe('x-twilio-signature');
    expect(signatureHeaderFor('signalwire')).toBe('x-signalwire-signature');
  });
});

// Characters that exercise encoding: spaces, plus, unicode, quotes, ampersands, percent signs.
const ALPHABET = ['a', 'Z', '0', ' ', '+', '&', '=', '%', "'", '"', 'é', '✓', '/', '?', '-', '_', '.', '~'];
function randomText(max: number): string {
  let s = '';
  const n = randomInt(0, max + 1);
  for (let i = 0; i < n; i++) s += ALPHABET[randomInt(0, ALPHABET.length)] as string;
  return s;
}
function randomUrl(): string {
  const scheme = randomInt(0, 2) === 0 ? 'https' : 'http';
  const port = [':443', ':80', ':8080', ''][randomInt(0, 4)] as string;
  const path = ['/voice/twilio', '/voice/signalwire', '/a/b/', '/'][randomInt(0, 4)] as string;
  const query = randomInt(0, 2) === 0 ? '' : `?x=${encodeURIComponent(randomText(6))}&y=${randomInt(0, 100)}`;
  return `${scheme}://host-${randomInt(0, 9)}.example.com${port}${path}${query}`;
}

describe('cross-check against the official twilio package', () => {
  it('computes the same signature and agrees on validity over randomized inputs', () => {
    for (let i = 0; i < 300; i++) {
      const token = randomBytes(16).toString('hex');
      const url = randomUrl();
      const params: Record<string, string> = {};
      const count = randomInt(0, 6);
      for (let k = 0; k < count; k++) params[`P${randomText(4)}${k}`] = randomText(12);
      const ours = computeSignature(token, url, params);
      expect(ours).toBe(twilio.getExpectedTwilioSignature(token, url, params));
      // Signed as twilio-node would on the carrier side, under either port spelling.
      for (const signedUrl of [url, url.replace('.com/', '.com:443/')]) {
        const sig = twilio.getExpectedTwilioSignature(token, signedUrl, params);
        expect(validateSignature(token, sig, url, params)).toBe(twilio.validateRequest(token, sig, url, params));
      }
      const forged = randomBytes(20).toString('base64');
      expect(validateSignature(token, forged, url, params)).toBe(false);
      expect(twilio.validateRequest(token, forged, url, params)).toBe(false);
    }
  });

  it('agrees on JSON-bodied requests', () => {
    for (let i = 0; i < 100; i++) {
      const token = randomBytes(16).toString('hex');
      const body = JSON.stringify({ text: randomText(30), n: randomInt(0, 1000) });
      const hash = twilio.getExpectedBodyHash(body);
      expect(computeBodyHash(body)).toBe(hash);
      const base = randomUrl();
      const url = `${base}${base.includes('?') ? '&' : '?'}bodySHA256=${hash}`;
      const sig = twilio.getExpectedTwilioSignature(token, url, {});
      expect(validateSignatureWithBody(token, sig, url, body)).toBe(true);
      expect(twilio.validateRequestWithBody(token, sig, url, body)).toBe(true);
      const other = body + 'x';
      expect(validateSignatureWithBody(token, sig, url, other)).toBe(twilio.validateRequestWithBody(token, sig, url, other));
    }
  });
});
