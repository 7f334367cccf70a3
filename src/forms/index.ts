/**
 * Forms and uploads: streaming `application/x-www-form-urlencoded` and `multipart/form-data`
 * parsing with limits, uploaded files spooled to disk when large, and body encoders for tests.
 *
 * @module
 */
export { parseForm, formFromEnviron, FORM_ENVIRON_KEY, ParsedForm, type ParseFormOptions } from './parse.ts';
export { DEFAULT_FORM_LIMITS, resolveLimits, type FormLimits, type FormLimitName } from './limits.ts';
export { FileUpload, safeFilename, DEFAULT_SPOOL_THRESHOLD } from './upload.ts';
export {
  encodeMultipart,
  encodeUrlencoded,
  type FileSpec,
  type FormFieldsInit,
  type FormFilesInit,
  type EncodedForm,
  type EncodeMultipartOptions,
} from './encode.ts';
