// Types for validators.js, which scripts/build-validators.ts generates from
// schemas/*.schema.json with ajv's standalone code generation (run the build first).

export interface ValidationError {
  /** JSON Pointer to the offending value, "" for the document itself. */
  instancePath: string;
  /** JSON Pointer into the schema, e.g. "#/definitions/namespace/properties/type/enum". */
  schemaPath: string;
  /** The failed schema keyword: "type", "required", "enum", "pattern", ... */
  keyword: string;
  /** Keyword-specific details, e.g. { missingProperty } or { allowedValues }. */
  params: Record<string, unknown>;
  message?: string;
}

export interface Validator {
  (data: unknown): boolean;
  /** Errors of the last call; null after a successful one. Stops at the first error. */
  errors?: ValidationError[] | null;
}

export declare const validateConfig: Validator;
export declare const validateState: Validator;
export declare const validateFeatures: Validator;
export declare const validateProcess: Validator;
