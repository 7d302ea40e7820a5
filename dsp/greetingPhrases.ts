// Transcript evidence for AMD: phrases only a recorded greeting says ("leave a message", "after the
// tone", "not available"), in the languages of the corpus. Optional: used when the call already
// streams to speech-to-text (the agent's turn.stt_final), never required — AMD decides without it.
// Text is compared lower-cased, without accents or punctuation, so "Laissez-nous un message" and
// "laissez nous un message" match alike.

/** Phrases by language; each is matched as a whole-word substring of the normalised transcript. */
export const GREETING_PHRASES: Readonly<Record<string, readonly string[]>> = {
  en: ['leave a message', 'leave your message', 'leave me a message', 'after the tone', 'after the beep', 'not available', 'unavailable', 'you have reached', "you've reached", 'record your message', 'voicemail', 'mailbox', 'cannot take your call', "can't take your call", 'can not come to the phone', "can't come to the phone"],
  fr: ['laissez un message', 'laissez nous un message', 'laissez moi un message', 'laissez votre message', 'apres le bip', 'apres le signal', 'pas disponible', 'indisponible', 'messagerie', 'repondeur', 'vous etes bien chez'],
  es: ['deje su mensaje', 'deje un mensaje', 'dejen su mensaje', 'despues del tono', 'despues de la senal', 'no esta disponible', 'no se encuentra disponible', 'buzon de voz', 'contestador'],
  it: ['lasciate un messaggio', 'lascia un messaggio', 'lasciare un messaggio', 'dopo il segnale', 'dopo il bip', 'non e disponibile', 'non disponibile', 'segreteria'],
  de: ['hinterlassen sie eine nachricht', 'nachricht nach dem signalton', 'nach dem signalton', 'nach dem piepton', 'nicht erreichbar', 'anrufbeantworter', 'mailbox'],
  nl: ['laat een bericht achter', 'spreek een bericht in', 'na de piep', 'na de toon', 'niet bereikbaar', 'voicemail'],
  cs: ['zanechte vzkaz', 'zanechte zpravu', 'po zaznení tonu', 'po zazneni signalu', 'neni dostupny', 'hlasova schranka'],
  pl: ['zostaw wiadomosc', 'prosze zostawic wiadomosc', 'po sygnale', 'jest niedostepny', 'poczta glosowa'],
  ru: ['оставьте сообщение', 'после сигнала', 'после звукового сигнала', 'недоступен', 'не может ответить', 'автоответчик', 'голосовая почта'],
  uk: ['залиште повідомлення', 'після сигналу', 'недоступний', 'автовідповідач', 'голосова пошта'],
};

const NORMALISED: readonly string[] = Object.values(GREETING_PHRASES)
  .flat()
  .map((p) => ` ${normalise(p)} `);

/** Lower case, accents and punctuation gone, single spaces, padded for whole-word matching. */
export function normalise(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** The first greeting phrase the transcript holds, or null. */
export function greetingPhrase(transcript: string): string | null {
  const t = ` ${normalise(transcript)} `;
  for (const p of NORMALISED) if (t.includes(p)) return p.trim();
  return null;
}
