/**
 * `tsgi/forms`: streaming `application/x-www-form-urlencoded` and `multipart/form-data`
 * parsing with limits enforced while streaming, uploaded files spooled to disk when large,
 * and body encoders for tests and clients. `req.form()` and `req.files()` use them. See
 * docs/forms.md.
 *
 * @module
 */
export { type ParseFormOptions, ParsedForm, parseForm } from '../forms/parse.ts';
export type { FieldPart, FilePart, FormPart, PartsOptions } from '../forms/parts.ts';
export { DEFAULT_FORM_LIMITS, type FormLimitName, type FormLimits } from '../forms/limits.ts';
export { FileUpload, safeFilename } from '../forms/upload.ts';
export {
  type EncodeMultipartOptions,
  type EncodedForm,
  type FileSpec,
  type FormFieldsInit,
  type FormEntriesInit,
  type FormFilesInit,
  encodeMultipart,
  encodeMultipartEntries,
  encodeUrlencoded,
} from '../forms/encode.ts';
